"""Wire schemas of the dataset endpoints (``/api/datasets``), served as OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mlops_kernel.schemas import NO_NUL, DatasetName, Strict

DatasetPath = Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=NO_NUL)]


class DatasetAddRequest(Strict):
    """The request body of ``POST /api/datasets``."""

    path: DatasetPath = Field(description="Absolute path of a file or a folder.")
    name: DatasetName | None = Field(
        default=None, description="Default: the file's stem or the folder's name, sanitised."
    )


class ColumnOut(BaseModel):
    name: str
    dtype: str = Field(
        description="CSV: int, float, bool, string or empty (inferred from every value); "
        "Parquet: the Arrow type."
    )
    nulls: int | None = Field(default=None, description="Empty cells (CSV only).")


class FileSchemaOut(BaseModel):
    format: str = Field(description="'csv' or 'parquet'.")
    rows: int | None = None
    columns: list[ColumnOut] = Field(default_factory=list)
    delimiter: str | None = None
    error: str | None = Field(
        default=None, description="Why the schema is missing or partial (the data is recorded)."
    )


class DatasetFileOut(BaseModel):
    path: str = Field(description="Relative to the dataset's root, with '/'.")
    size: int
    sha256: str


class DatasetVersionOut(BaseModel):
    id: str
    name: str
    version: int
    ref: str = Field(description="'name@version': what a run's `datasets` pins.")
    path: str = Field(description="Absolute, resolved path the files were read from.")
    manifest_hash: str = Field(
        description="'sha256:' + the SHA-256 of the canonical manifest: the identity."
    )
    size_bytes: int
    file_count: int
    schema_: dict[str, FileSchemaOut] = Field(
        alias="schema",
        serialization_alias="schema",
        description="Tabular files (CSV, Parquet) by relative path.",
    )
    files: list[DatasetFileOut] | None = Field(
        default=None, description="Every file with its size and hash (omitted in listings)."
    )
    created_at: datetime

    model_config = ConfigDict(validate_by_name=True, serialize_by_alias=True)


class DatasetAdded(DatasetVersionOut):
    """The answer to ``POST /api/datasets``."""

    created: bool = Field(description="False when this content was already recorded.")
    ignored: list[str] = Field(
        default_factory=list,
        description="Folders left out of the manifest (.git, __pycache__, .ipynb_checkpoints).",
    )
    files_hashed: int = Field(description="Files read to hash them (the rest came cached).")


class DatasetSummary(BaseModel):
    name: str
    versions: int
    latest: DatasetVersionOut


class DatasetList(BaseModel):
    datasets: list[DatasetSummary]


class DatasetVersionList(BaseModel):
    name: str
    versions: list[DatasetVersionOut]


class DatasetVersionQuery(Strict):
    """Query parameters of ``GET /api/datasets/{name}/{version}``."""

    files: bool = Field(default=True, description="List every file (false: omit them).")
