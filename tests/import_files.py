"""Files in the layouts LAs download, written for the import tests and the round-trip script.

``scripts/import_roundtrip.py`` imports this module too (one copy of GIAS's header and of
the OS Open Roads grid).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

#: GIAS's header row of edubasealldata*.csv, as downloaded (2023-2025 layout).
GIAS_HEADER = (
    "URN,LA (code),LA (name),EstablishmentNumber,EstablishmentName,TypeOfEstablishment (code),"
    "TypeOfEstablishment (name),EstablishmentTypeGroup (code),EstablishmentTypeGroup (name),"
    "EstablishmentStatus (code),EstablishmentStatus (name),ReasonEstablishmentOpened (code),"
    "ReasonEstablishmentOpened (name),OpenDate,ReasonEstablishmentClosed (code),"
    "ReasonEstablishmentClosed (name),CloseDate,PhaseOfEducation (code),PhaseOfEducation (name),"
    "StatutoryLowAge,StatutoryHighAge,Boarders (code),Boarders (name),NurseryProvision (name),"
    "OfficialSixthForm (code),OfficialSixthForm (name),Gender (code),Gender (name),"
    "ReligiousCharacter (code),ReligiousCharacter (name),ReligiousEthos (name),Diocese (code),"
    "Diocese (name),AdmissionsPolicy (code),AdmissionsPolicy (name),SchoolCapacity,"
    "SpecialClasses (code),SpecialClasses (name),CensusDate,NumberOfPupils,NumberOfBoys,"
    "NumberOfGirls,PercentageFSM,TrustSchoolFlag (code),TrustSchoolFlag (name),Trusts (code),"
    "Trusts (name),SchoolSponsorFlag (name),SchoolSponsors (name),FederationFlag (name),"
    "Federations (code),Federations (name),UKPRN,FEHEIdentifier,FurtherEducationType (name),"
    "OfstedLastInsp,OfstedSpecialMeasures (code),OfstedSpecialMeasures (name),LastChangedDate,"
    "Street,Locality,Address3,Town,County (name),Postcode,SchoolWebsite,TelephoneNum,"
    "HeadTitle (name),HeadFirstName,HeadLastName,HeadPreferredJobTitle,"
    "BSOInspectorateName (name),InspectorateReport,DateOfLastInspectionVisit,"
    "NextInspectionVisit,TeenMoth (name),TeenMothPlaces,CCF (name),SENPRU (name),EBD (name),"
    "PlacesPRU,FTProv (name),EdByOther (name),Section41Approved (name),"
    + ",".join(f"SEN{i} (name)" for i in range(1, 14))
    + ",TypeOfResourcedProvision (name),ResourcedProvisionOnRoll,ResourcedProvisionCapacity,"
    "SenUnitOnRoll,SenUnitCapacity,GOR (code),GOR (name),DistrictAdministrative (code),"
    "DistrictAdministrative (name),AdministrativeWard (code),AdministrativeWard (name),"
    "ParliamentaryConstituency (code),ParliamentaryConstituency (name),UrbanRural (code),"
    "UrbanRural (name),GSSLACode (name),Easting,Northing,MSOA (name),LSOA (name),"
    "InspectorateName (name),SENStat,SENNoStat,BoardingEstablishment (name),PropsName,"
    "PreviousLA (code),PreviousLA (name),PreviousEstablishmentNumber,OfstedRating (name),"
    "RSCRegion (name),Country (name),UPRN,SiteName,QABName (code),QABName (name),"
    "EstablishmentAccredited (code),EstablishmentAccredited (name),QABReport,CHNumber,"
    "MSOA (code),LSOA (code),FSM"
).split(",")


def write_gias(path: Path, rows: list[dict[str, str]], *, encoding: str = "cp1252") -> Path:
    """Write ``rows`` under GIAS's header as GIAS does: Windows-1252 (or ``encoding``), CRLF."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=GIAS_HEADER, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def open_roads_gpkg(
    path: Path,
    box: tuple[float, float, float, float],
    step: float = 1000.0,
    *,
    kink_m: float = 100.0,
    motorway_row: int | None = None,
) -> Path:
    """A grid of road links in OS Open Roads' layout over ``box`` [EPSG:27700 m].

    Every fifth row is an A road, every fourth column a B road, row ``motorway_row`` (if
    given) a motorway, the rest minor roads; every third link has a kink ``kink_m`` off the
    straight line.
    """
    xs = np.arange(box[0], box[2] + 1, step)
    ys = np.arange(box[1], box[3] + 1, step)
    name = {(i, j): f"osgb40000000{i:03d}{j:03d}" for i in range(len(xs)) for j in range(len(ys))}
    minor = ["Unclassified", "Not Classified", "Classified Unnumbered", "Unknown"]
    rows = []
    for i in range(len(xs)):
        for j in range(len(ys)):
            for di, dj in ((1, 0), (0, 1)):
                if i + di >= len(xs) or j + dj >= len(ys):
                    continue
                a, b = (xs[i], ys[j]), (xs[i + di], ys[j + dj])
                if dj == 0:
                    cls = (
                        "Motorway"
                        if j == motorway_row
                        else "A Road"
                        if j % 5 == 0
                        else minor[i % 4]
                    )
                else:
                    cls = "B Road" if i % 4 == 0 else minor[j % 4]
                pts = [a, b]
                if (i + j) % 3 == 0:
                    mid = ((a[0] + b[0]) / 2 + kink_m * dj, (a[1] + b[1]) / 2 + kink_m * di)
                    pts = [a, mid, b]
                line = shapely.LineString(pts)
                rows.append(
                    {
                        "id": f"L{i}-{j}-{di}",
                        "fictitious": False,
                        "road_classification": cls,
                        "road_function": "Local Road",
                        "form_of_way": "Single Carriageway",
                        "length": round(line.length),
                        "length_uom": "m",
                        "start_node": name[i, j],
                        "end_node": name[i + di, j + dj],
                        "geometry": line,
                    }
                )
    gpd.GeoDataFrame(rows, crs="EPSG:27700").to_file(path, layer="road_link", driver="GPKG")
    return path
