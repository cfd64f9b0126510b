"""Every importer, by the ``kind`` used in URLs and jobs, in the order the upload page lists them."""

from __future__ import annotations

from .assignments import AssignmentsImporter
from .base import Importer
from .places import DepartmentsImporter, GridsImporter, UnitsImporter
from .premises import BusinessPremisesImporter, KeyPlacesImporter, RentalHousesImporter
from .residents import ResidentsImporter

IMPORTERS: dict[str, type[Importer]] = {
    cls.kind: cls
    for cls in (
        UnitsImporter,
        GridsImporter,
        DepartmentsImporter,
        AssignmentsImporter,
        ResidentsImporter,
        RentalHousesImporter,
        BusinessPremisesImporter,
        KeyPlacesImporter,
    )
}
