"""What the API answers, as pydantic models: they are the OpenAPI document's schemas. Balances
are decimal strings, because they are u128 on chain and a JSON number loses precision past
2^53 in most languages."""
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

# What the chain takes, in bytes of UTF-8 (module_utils/reports.py).
MAX_REPORT_TEXT = 256

State = Literal["awarded", "running", "terminating", "terminated", "failed"]


class SchemaError(BaseModel):
    path: str = Field(description="Where in the descriptor, as a JSON path.")
    message: str


class Problem(BaseModel):
    """Every error answer."""
    error: str = Field(description="A stable name: unauthorized, not_found, invalid_cursor, chain_unavailable, ...")
    detail: str = Field(description="What happened, for a human.")
    errors: Optional[list[SchemaError]] = Field(None, description="descriptor_invalid: what the type's schema refused.")


class ReadAt(BaseModel):
    """The finalised block an answer was read at."""
    block: int
    block_hash: str


class Live(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    ready: bool
    finalised: Optional[ReadAt] = None
    head_age_seconds: Optional[float] = Field(None, description="Now minus the finalised head's timestamp.")
    detail: Optional[str] = None


class Offer(BaseModel):
    type_id: int
    capacity: int
    in_use: int
    price_per_block: str


class Provider(BaseModel):
    address: str
    name: str = Field(description="Chain text, set by the provider: display it as text, never evaluate it.")
    status: str
    consumer_policy: str
    live_deployments: int
    offers: list[Offer]
    read_at: ReadAt


class Deployment(BaseModel):
    id: int
    consumer: str
    provider: str
    type_id: int
    type_name: Optional[str]
    descriptor_cid: str
    price_per_block: str
    deposit_remaining: str
    paid: str
    runs_out_at: Optional[int] = Field(description="The block the deposit runs out at, once it is running.")
    state: State
    state_reason: Optional[str] = Field(description="Why it failed or is being torn down; chain text.")
    access_info: str = Field(description="What the provider reported on deploying it; chain text.")
    awarded_at: int


class DeploymentAt(Deployment):
    read_at: ReadAt


class DeploymentPage(BaseModel):
    deployments: list[Deployment]
    next_cursor: Optional[str] = Field(description="Pass it as `cursor` for the next page; null on the last page.")
    read_at: ReadAt = Field(description="Each page is read at the finalised head of its own request.")


class _Report(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @staticmethod
    def _bounded(value, name):
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > MAX_REPORT_TEXT:
            raise ValueError(f"{name} is {size} bytes of UTF-8; the chain takes at most {MAX_REPORT_TEXT}")
        return value


class DeployedReport(_Report):
    access_info: str = Field(description=f"How the consumer reaches it, at most {MAX_REPORT_TEXT} bytes of UTF-8.")

    @field_validator("access_info")
    @classmethod
    def _fits(cls, value):
        return cls._bounded(value, "access_info")


class FailedReport(_Report):
    reason: str = Field(min_length=1, description=f"Why, for the consumer, at most {MAX_REPORT_TEXT} bytes of UTF-8.")

    @field_validator("reason")
    @classmethod
    def _fits(cls, value):
        return cls._bounded(value, "reason")


class TerminatedReport(_Report):
    """No fields: the deployment's resources are gone."""


class ReportResult(BaseModel):
    changed: bool = Field(description="False when the chain already said so: repeating a report is safe.")
    deployment: Deployment
    block_hash: Optional[str] = Field(None, description="The block the report was included in, when it changed anything.")


class Descriptor(BaseModel):
    """A deployment's descriptor, verified against its CID and valid against its type's schema."""
    deployment_id: int
    cid: str
    type_name: Optional[str]
    schema_cid: str
    size: int = Field(description="Bytes, as published.")
    descriptor: dict = Field(description="The consumer's document: chain-grade untrusted data, valid against the schema.")
    read_at: ReadAt
