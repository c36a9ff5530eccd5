"""Real clients on the sandbox clearinghouse (asyncssh SFTP, httpx tokens) and 837P batches and
CHC claim JSON addressed to it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncssh
import httpx

from sandbox.clearinghouse import ClearinghouseSandbox


@contextlib.asynccontextmanager
async def sftp_session(ch: ClearinghouseSandbox, username: str = "facade",
                       password: str = "sandbox-only") -> AsyncIterator[asyncssh.SFTPClient]:
    """A real SFTP session on the sandbox (host key not checked: loopback test server)."""
    async with asyncssh.connect(ch.host, ch.sftp_port, username=username, password=password,
                                known_hosts=None, client_keys=None, agent_path=None,
                                preferred_auth="password") as conn:
        async with conn.start_sftp_client() as sftp:
            yield sftp


async def upload(sftp: asyncssh.SFTPClient, name: str, content: str | bytes) -> None:
    """The facade's pattern: write ``inbound/NAME.part``, then rename it to ``inbound/NAME``."""
    data = content.encode() if isinstance(content, str) else content
    async with sftp.open(f"inbound/{name}.part", "wb") as f:
        await f.write(data)
    await sftp.rename(f"inbound/{name}.part", f"inbound/{name}")


async def outbound_files(sftp: asyncssh.SFTPClient) -> dict[str, str]:
    """Name -> content of everything in ``outbound/``."""
    out: dict[str, str] = {}
    for name in sorted(await sftp.listdir("outbound")):
        if name in (".", ".."):
            continue
        async with sftp.open(f"outbound/{name}", "rb") as f:
            data = await f.read()
        out[name] = data.decode() if isinstance(data, bytes) else data
    return out


async def chc_token(http: httpx.AsyncClient) -> dict[str, str]:
    """``Authorization`` header with a fresh CHC bearer token for the default account."""
    r = await http.post("/apip/auth/v2/token", json={
        "client_id": "facade-sandbox", "client_secret": "sandbox-only",
        "grant_type": "client_credentials"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


STEDI = {"Authorization": "sandbox-api-key"}
STEDI_PREFIX = "/2024-04-01/change"


def _pad(value: str, width: int) -> str:
    return value.ljust(width)[:width]


def make_837(
    isa13: int,
    pcns: Sequence[str] = ("PCN-1",),
    *,
    sender: str = "FACADE",
    receiver: str = "CLEARINGHOUSE",
    usage: str = "T",
    billing_zip: str = "972051234",
    procedure: str = "99213",
    charge: str = "100",
    member: str = "W1000200301",
    payer: str = "60054",
) -> str:
    """An 837P (005010X222A1) interchange with one claim per PCN, one service line each."""
    gs06 = str(isa13)
    claims: list[str] = []
    for pcn in pcns:
        claims += [
            "HL*2*1*22*0", "SBR*P*18*GRP7788******CI",
            f"NM1*IL*1*HARTLEY*ROSE****MI*{member}", "N3*42 ALDER STREET",
            "N4*PORTLAND*OR*97214", "DMG*D8*19800214*F",
            f"NM1*PR*2*CASCADE HEALTH PLAN*****PI*{payer}",
            f"CLM*{pcn}*{charge}***11:B:1*Y*A*Y*Y", "HI*ABK:J0300",
            "LX*1", f"SV1*HC:{procedure}*{charge}*UN*1***1", "DTP*472*D8*20261110",
            f"REF*6R*{pcn}-1",
        ]
    body = [
        "ST*837*0001*005010X222A1", f"BHT*0019*00*B{isa13}*20261120*0930*CH",
        "NM1*41*2*RIVERSIDE FAMILY MEDICINE*****46*RFM0001",
        "PER*IC*BILLING OFFICE*TE*5035550100",
        "NM1*40*2*SANDBOX CLEARINGHOUSE*****46*CLEARINGHOUSE",
        "HL*1**20*1", "PRV*BI*PXC*207Q00000X",
        "NM1*85*2*RIVERSIDE FAMILY MEDICINE*****XX*1234567893",
        "N3*100 RIVER ROAD", f"N4*PORTLAND*OR*{billing_zip}", "REF*EI*930000001",
    ]
    # Each claim's subscriber HL gets its own number under the billing provider HL 1.
    hl = 2
    for seg in claims:
        if seg.startswith("HL*2*"):
            body.append(f"HL*{hl}*1*22*0")
            hl += 1
        else:
            body.append(seg)
    body.append(f"SE*{len(body) + 1}*0001")
    segments = [
        f"ISA*00*{' ' * 10}*00*{' ' * 10}*ZZ*{_pad(sender, 15)}*ZZ*{_pad(receiver, 15)}"
        f"*261120*0930*^*00501*{isa13:09d}*1*{usage}*:",
        f"GS*HC*{sender}*{receiver}*20261120*0930*{gs06}*X*005010X222A1",
        *body,
        f"GE*1*{gs06}", f"IEA*1*{isa13:09d}",
    ]
    return "~\n".join(segments) + "~\n"


def kinds(names: Sequence[str]) -> list[str]:
    """The answer kinds of Stedi-style outbound names ``{ts}_{uuid}_{KIND}.x12``."""
    return [name.rsplit("_", 1)[-1].removesuffix(".x12") for name in names]


def claim_body(pcn: str = "PCN-J1", **overrides: Any) -> dict[str, Any]:
    """A CHC professional claims v3 submission (Stedi's published example, CLEARINGHOUSES.md
    section 3)."""
    body: dict[str, Any] = {
        "controlNumber": "000000001",
        "tradingPartnerServiceId": "60054",
        "usageIndicator": "T",
        "submitter": {"organizationName": "Riverside Family Medicine",
                      "contactInformation": {"name": "Billing", "phoneNumber": "5035550100"}},
        "receiver": {"organizationName": "Cascade Health Plan"},
        "subscriber": {"memberId": "W1000200301", "paymentResponsibilityLevelCode": "P",
                       "firstName": "Rose", "lastName": "Hartley", "gender": "F",
                       "dateOfBirth": "19800214", "groupNumber": "GRP7788"},
        "billing": {"providerType": "BillingProvider", "npi": "1234567893",
                    "employerId": "930000001", "taxonomyCode": "207Q00000X",
                    "organizationName": "Riverside Family Medicine",
                    "address": {"address1": "100 River Road", "city": "Portland",
                                "state": "OR", "postalCode": "972051234"}},
        "claimInformation": {
            "claimFilingCode": "CI", "patientControlNumber": pcn, "claimChargeAmount": "100.00",
            "placeOfServiceCode": "11", "claimFrequencyCode": "1", "signatureIndicator": "Y",
            "planParticipationCode": "A", "benefitsAssignmentCertificationIndicator": "Y",
            "releaseInformationCode": "Y",
            "healthCareCodeInformation": [{"diagnosisTypeCode": "ABK", "diagnosisCode": "J0300"}],
            "serviceLines": [{
                "serviceDate": "20261110", "providerControlNumber": f"{pcn}-1",
                "professionalService": {
                    "procedureIdentifier": "HC", "procedureCode": "99213",
                    "lineItemChargeAmount": "100.00", "measurementUnit": "UN",
                    "serviceUnitCount": "1",
                    "compositeDiagnosisCodePointers": {"diagnosisCodePointers": ["1"]}}}],
        },
    }
    body.update(overrides)
    return body
