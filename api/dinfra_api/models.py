"""What the API answers, as pydantic models: they are the OpenAPI document's schemas. Balances
are decimal strings, because they are u128 on chain and a JSON number loses precision past
2^53 in most languages."""
from typing import Literal, Optional

from pydantic import BaseModel, Field

State = Literal["awarded", "running", "terminating", "terminated", "failed"]


class Problem(BaseModel):
    """Every error answer."""
    error: str = Field(description="A stable name: unauthorized, not_found, invalid_cursor, chain_unavailable, ...")
    detail: str = Field(description="What happened, for a human.")


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
