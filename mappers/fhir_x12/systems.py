"""Code systems and identifier systems the translations use.

External lists keep their published URIs (X12 CARC/RARC as STANDARDS names them, HL7 and CARIN
Blue Button CodeSystems, US NPI); identifiers that only exist inside X12 (patient control
numbers, payer claim numbers, trace numbers, payer and member ids) get the facade's own URNs,
qualified by the party that assigns them where X12 says who that is.
"""

from __future__ import annotations

__all__ = [
    "ADJUDICATION",
    "C4BB_ADJUDICATION",
    "C4BB_DISCRIMINATOR",
    "CARC",
    "CLAIM_STATUS",
    "CLAIM_STATUS_CATEGORY",
    "CLAIM_TYPE",
    "EX_PAYMENT_TYPE",
    "NPI",
    "PAYMENT_TYPE",
    "RARC",
    "acknowledgment_claim",
    "clearinghouse_trace",
    "member_id",
    "patient_control_number",
    "payer_claim_number",
    "payer_id",
    "trace_number",
    "product_qualifier",
    "product_system",
    "x12_element_system",
    "X12_CODES",
    "ICD10_CM",
    "ICD10_PCS",
    "CMS_POS",
    "NUBC_BILL_TYPE",
    "NUBC_REVENUE",
    "SUBSCRIBER_RELATIONSHIP",
    "V2_0203",
    "PROCESS_PRIORITY",
    "TAXONOMY",
    "remittance_claim",
]

CARC = "https://x12.org/codes/claim-adjustment-reason-codes"
CLAIM_STATUS_CATEGORY = "https://x12.org/codes/claim-status-category-codes"
CLAIM_STATUS = "https://x12.org/codes/claim-status-codes"
RARC = "https://x12.org/codes/remittance-advice-remark-codes"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
C4BB_ADJUDICATION = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication"
C4BB_DISCRIMINATOR = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudicationDiscriminator"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
PAYMENT_TYPE = "http://terminology.hl7.org/CodeSystem/payment-type"
EX_PAYMENT_TYPE = "http://terminology.hl7.org/CodeSystem/ex-paymenttype"
NPI = "http://hl7.org/fhir/sid/us-npi"

_BASE = "urn:fhir-facade:x12"


def patient_control_number() -> str:
    """CLM01 / CLP01: the number the provider gave the claim (the Claim's identifier)."""
    return f"{_BASE}:patient-control-number"


def payer_id() -> str:
    """A payer's identifier as the remittance names it (1000A N104 / REF*2U)."""
    return f"{_BASE}:payer-id"


def payer_claim_number(payer: str) -> str:
    """CLP07: the payer's own number for the claim (also 277CA REF*1K)."""
    return f"{_BASE}:payer-claim-number:{payer}"


def member_id(payer: str) -> str:
    """NM109 of NM1*QC / NM1*IL with qualifier MI: the member id the payer assigned."""
    return f"{_BASE}:member-id:{payer}"


def acknowledgment_claim() -> str:
    """One claim of one acknowledgment: "batch/CLM01/n" (2200B TRN02, 2200D TRN02)."""
    return f"{_BASE}:acknowledgment-claim"


def clearinghouse_trace() -> str:
    """REF*D9: the clearinghouse's trace number for a claim."""
    return f"{_BASE}:clearinghouse-trace"


def remittance_claim() -> str:
    """One claim of one remittance: "TRN03/TRN02/n" for the n-th CLP of the payment."""
    return f"{_BASE}:remittance-claim"


def trace_number(originator: str) -> str:
    """TRN02 (check or EFT trace number), unique for its originator TRN03."""
    return f"{_BASE}:trace-number:{originator}"


# SVC01-1 product/service id qualifier -> the code system of SVC01-2.
_PRODUCT_SYSTEMS = {
    "HC": "http://www.ama-assn.org/go/cpt",
    "NU": "https://www.nubc.org/CodeSystem/RevenueCodes",
    "AD": "http://www.ada.org/cdt",
    "N4": "http://hl7.org/fhir/sid/ndc",
    "ER": "urn:fhir-facade:x12:jurisdiction-specific-procedure",
    "WK": "urn:fhir-facade:x12:advanced-billing-concepts",
    "IV": "urn:fhir-facade:x12:home-infusion-edi-coalition",
}
_HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"


def product_system(qualifier: str, code: str) -> str:
    """The system of a procedure code: HC codes starting with a letter are HCPCS Level II, the
    numeric ones CPT (HCPCS Level I)."""
    if qualifier == "HC" and code[:1].isalpha():
        return _HCPCS
    return _PRODUCT_SYSTEMS.get(qualifier, f"urn:fhir-facade:x12:product-qualifier:{qualifier}")


def product_qualifier(system: str) -> str:
    """The X12 product/service id qualifier (SV101-1, SV202-1, SVC01-1) of a code system."""
    if system == _HCPCS:
        return "HC"
    for qualifier, known in _PRODUCT_SYSTEMS.items():
        if known == system:
            return qualifier
    prefix = "urn:fhir-facade:x12:product-qualifier:"
    return system[len(prefix):] if system.startswith(prefix) else ""


X12_CODES = "https://codesystem.x12.org/005010"
"""X12 code lists as PAS 2.2.1 names them: ``{X12_CODES}/{data element number}``."""

ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10_PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
CMS_POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
NUBC_BILL_TYPE = "https://www.nubc.org/CodeSystem/TypeOfBill"
NUBC_REVENUE = "https://www.nubc.org/CodeSystem/RevenueCodes"
SUBSCRIBER_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
PROCESS_PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
TAXONOMY = "http://nucc.org/provider-taxonomy"


def x12_element_system(element: str) -> str:
    """The code system of an X12 code list by data element number (``1365`` service type,
    ``306`` review action...), ``https://codesystem.x12.org/005010/<element>`` (PAS 2.2.1)."""
    return f"{X12_CODES}/{element}"
