"""CARIN for Blue Button 2.0.0 ExplanationOfBenefit profiles as compact rule data.

Derived from the StructureDefinition snapshots of ``hl7.fhir.us.carin-bb`` 2.0.0
(https://hl7.org/fhir/us/carin-bb/STU2/) by ``scripts/c4bb_rules_from_ig.py``; regenerate
rather than edit. ``profiles/carin_bb_check.py`` applies them.

Paths are relative to the resource (``item.adjudication``); a choice element keeps ``[x]``
(``item.serviced[x]``) or names its type (``item.locationCodeableConcept``). An ``Element``
row says what the profile demands of every occurrence of that path: cardinality, a required
binding (a key of ``VALUE_SETS``), a pattern (codings that must be present, or a primitive
value), the types a choice may take. A ``Slice`` is a named subset of a repeating element
picked by the pattern of its discriminator (``category`` or ``type``) or, with no pattern, by
membership of a value set; its own rows apply to its members. A concrete profile lists only
what differs from ``BASE``.
"""

from __future__ import annotations

from typing import Final

from profiles.profile_rules import Element, Profile, Slice

__all__ = [
    "BASE",
    "Element",
    "INPATIENT_INSTITUTIONAL",
    "OUTPATIENT_INSTITUTIONAL",
    "PROFESSIONAL_NONCLINICIAN",
    "PROFILES",
    "Profile",
    "Slice",
    "VALUE_SETS",
]

_CS: Final = "http://hl7.org/fhir/us/carin-bb/CodeSystem/"
_VS: Final = "http://hl7.org/fhir/us/carin-bb/ValueSet/"
_SD: Final = "http://hl7.org/fhir/us/carin-bb/StructureDefinition/"
_THO: Final = "http://terminology.hl7.org/CodeSystem/"


# Required value sets as (system, codes); () is every code of that system.
VALUE_SETS: Final[dict[str, tuple[tuple[str, tuple[str, ...]], ...]]] = {
    'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.114222.4.11.1066': (
        ('http://nucc.org/provider-taxonomy', ()),
    ),
    'http://hl7.org/fhir/ValueSet/claim-type': (
        (_THO + 'claim-type', ('institutional', 'oral', 'pharmacy', 'professional', 'vision')),
    ),
    'http://hl7.org/fhir/ValueSet/process-priority': (
        (_THO + 'processpriority', ('stat', 'normal', 'deferred')),
    ),
    _VS + 'AHANUBCPatientDischargeStatus': (
        ('https://www.nubc.org/CodeSystem/PatDischargeStatus', ()),
    ),
    _VS + 'AHANUBCPointOfOriginForAdmissionOrVisit': (
        ('https://www.nubc.org/CodeSystem/PointOfOrigin', ()),
        ('https://www.nubc.org/CodeSystem/PointOfOriginNewborn', ()),
    ),
    _VS + 'AHANUBCPresentOnAdmission': (
        ('https://www.nubc.org/CodeSystem/PresentOnAdmissionIndicator', ()),
    ),
    _VS + 'AHANUBCPriorityTypeOfAdmissionOrVisit': (
        ('https://www.nubc.org/CodeSystem/PriorityTypeOfAdmitOrVisit', ()),
    ),
    _VS + 'AHANUBCRevenueCodes': (('https://www.nubc.org/CodeSystem/RevenueCodes', ()),),
    _VS + 'AHANUBCTypeOfBill': (('https://www.nubc.org/CodeSystem/TypeOfBill', ()),),
    _VS + 'AMACPTCMSHCPCSModifiers': (
        ('http://www.ama-assn.org/go/cpt', ()),
        ('https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets', ()),
    ),
    _VS + 'AMACPTCMSHCPCSProcedureCodes': (
        (_THO + 'data-absent-reason', ('not-applicable',)),
        ('http://www.ama-assn.org/go/cpt', ()),
        ('https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets', ()),
    ),
    _VS + 'C4BBAdjudication': (
        (_THO + 'adjudication', ('submitted', 'copay', 'eligible', 'deductible', 'benefit')),
        (_CS + 'C4BBAdjudication',
            ('coinsurance', 'noncovered', 'priorpayerpaid', 'paidbypatient', 'paidbypatientcash',
            'paidbypatientother', 'paidtopatient', 'paidtoprovider', 'memberliability', 'discount',
            'drugcost')),
    ),
    _VS + 'C4BBAmbulanceTransportReasonCodes': (
        ('https://x12.org/codesystem.x12.org/ambulance-transport-reason-codes', ()),
    ),
    _VS + 'C4BBClaimInpatientInstitutionalDiagnosisType': (
        (_THO + 'ex-diagnosistype', ('principal', 'admitting')),
        (_CS + 'C4BBClaimDiagnosisType', ('other', 'externalcauseofinjury')),
    ),
    _VS + 'C4BBClaimInstitutionalCareTeamRole': (
        (_THO + 'claimcareteamrole', ('primary',)),
        (_CS + 'C4BBClaimCareTeamRole',
            ('attending', 'referring', 'operating', 'otheroperating', 'rendering')),
    ),
    _VS + 'C4BBClaimOutpatientInstitutionalDiagnosisType': (
        (_THO + 'ex-diagnosistype', ('principal',)),
        (_CS + 'C4BBClaimDiagnosisType',
            ('other', 'externalcauseofinjury', 'patientreasonforvisit')),
    ),
    _VS + 'C4BBClaimProcedureType': ((_CS + 'C4BBClaimProcedureType', ()),),
    _VS + 'C4BBClaimProfessionalAndNonClinicianCareTeamRole': (
        (_THO + 'claimcareteamrole', ('primary', 'supervisor')),
        (_CS + 'C4BBClaimCareTeamRole', ('rendering', 'purchasedservice', 'referring')),
    ),
    _VS + 'C4BBClaimProfessionalAndNonClinicianDiagnosisType': (
        (_THO + 'ex-diagnosistype', ('principal',)),
        (_CS + 'C4BBClaimDiagnosisType', ('secondary',)),
    ),
    _VS + 'C4BBEOBInstitutionalProcedureCodes': (
        ('http://www.ama-assn.org/go/cpt', ()),
        ('https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets', ()),
        (
            'https://www.cms.gov/Medicare/Medicare-Fee-for-Service-Payment/ProspMedicareFeeSvcPmtGen/HIPPSCodes',  # noqa: E501
            ()),
        (_THO + 'data-absent-reason', ('not-applicable',)),
    ),
    _VS + 'C4BBInstitutionalClaimSubType': ((_CS + 'C4BBInstitutionalClaimSubType', ()),),
    _VS + 'C4BBPayeeType': (
        (_CS + 'C4BBPayeeType', ('beneficiary',)),
        (_THO + 'payeetype', ('subscriber', 'provider', 'other')),
    ),
    _VS + 'C4BBPayerBenefitPaymentStatus': (
        (_CS + 'C4BBPayerAdjudicationStatus', ('innetwork', 'outofnetwork', 'other')),
    ),
    _VS + 'C4BBPayerClaimPaymentStatusCode': (
        (_CS + 'C4BBPayerAdjudicationStatus', ('paid', 'denied', 'partiallypaid')),
    ),
    _VS + 'C4BBPayerProviderNetworkStatus': (
        (_CS + 'C4BBPayerAdjudicationStatus', ('innetwork', 'outofnetwork')),
    ),
    _VS + 'C4BBProfessionalAndNonClinicianClaimType': (
        (_THO + 'claim-type', ('professional', 'vision')),
    ),
    _VS + 'C4BBRelatedClaimRelationshipCodes': (
        (_THO + 'ex-relatedclaimrelationship', ('prior',)),
        (_CS + 'C4BBRelatedClaimRelationshipCodes', ('replacedby',)),
    ),
    _VS + 'CDCICD910CMDiagnosisCodes': (
        ('http://hl7.org/fhir/sid/icd-10-cm', ()),
        (_THO + 'icd9', ()),
    ),
    _VS + 'CMSICD910PCSProcedureCodes': (
        ('http://www.cms.gov/Medicare/Coding/ICD10', ()),
        ('http://www.cms.gov/Medicare/Coding/ICD9', ()),
    ),
    _VS + 'CMSPlaceofServiceCodes': (
        ('https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set',
            ()),
    ),
    _VS + 'X12ClaimAdjustmentReasonCodesCMSRemittanceAdviceRemarkCodes': (
        ('https://x12.org/codes/claim-adjustment-reason-codes', ()),
        ('https://x12.org/codes/remittance-advice-remark-codes', ()),
    ),
}


# Slices several concrete profiles share.
_SUPPORTINGINFO_CLMRECVDDATE: Final = Slice('supportingInfo', 'clmrecvddate', 0, 1, 'category',
    pattern=((_CS + 'C4BBSupportingInfoType', 'clmrecvddate'),),
    elements=(Element('timing[x]', 1, 1, types=('date',)),))
_SUPPORTINGINFO_MEDICALRECORDNUMBER: Final = Slice('supportingInfo', 'medicalrecordnumber', 0, 1,
    'category', pattern=((_CS + 'C4BBSupportingInfoType', 'medicalrecordnumber'),),
    elements=(Element('valueString', 1, 1),))
_SUPPORTINGINFO_PATIENTACCOUNTNUMBER: Final = Slice('supportingInfo', 'patientaccountnumber', 0, 1,
    'category', pattern=((_CS + 'C4BBSupportingInfoType', 'patientaccountnumber'),),
    elements=(Element('valueString', 1, 1),))
_ADJUDICATION_BILLINGNETWORKSTATUS: Final = Slice('adjudication', 'billingnetworkstatus', 0, 1,
    'category', pattern=((_CS + 'C4BBAdjudicationDiscriminator', 'billingnetworkstatus'),),
    elements=(Element('reason', 1, 1, binding=_VS + 'C4BBPayerProviderNetworkStatus'),))
_TOTAL_ADJUDICATIONAMOUNTTYPE: Final = Slice('total', 'adjudicationamounttype', 1, None,
    'category', member_of=_VS + 'C4BBAdjudication')
_SUPPORTINGINFO_TYPEOFBILL: Final = Slice('supportingInfo', 'typeofbill', 0, 1, 'category',
    pattern=((_CS + 'C4BBSupportingInfoType', 'typeofbill'),),
    elements=(Element('code', 1, 1, binding=_VS + 'AHANUBCTypeOfBill'),))
_SUPPORTINGINFO_POINTOFORIGIN: Final = Slice('supportingInfo', 'pointoforigin', 0, 1, 'category',
    pattern=((_CS + 'C4BBSupportingInfoType', 'pointoforigin'),),
    elements=(Element('code', 1, 1, binding=_VS + 'AHANUBCPointOfOriginForAdmissionOrVisit'),))
_SUPPORTINGINFO_ADMTYPE: Final = Slice('supportingInfo', 'admtype', 0, 1, 'category',
    pattern=((_CS + 'C4BBSupportingInfoType', 'admtype'),),
    elements=(Element('code', 1, 1, binding=_VS + 'AHANUBCPriorityTypeOfAdmissionOrVisit'),))
_SUPPORTINGINFO_DISCHARGE_STATUS: Final = Slice('supportingInfo', 'discharge-status', 0, 1,
    'category', pattern=((_CS + 'C4BBSupportingInfoType', 'discharge-status'),),
    elements=(Element('code', 1, 1, binding=_VS + 'AHANUBCPatientDischargeStatus'),))
_ITEM_ADJUDICATION_ADJUDICATIONAMOUNTTYPE: Final = Slice('item.adjudication',
    'adjudicationamounttype', 0, None, 'category', member_of=_VS + 'C4BBAdjudication',
    elements=(Element('amount', 1, 1),))
_ITEM_ADJUDICATION_ADJUSTMENTREASON: Final = Slice('item.adjudication', 'adjustmentreason', 0,
    None, 'category', pattern=((_CS + 'C4BBAdjudicationDiscriminator', 'adjustmentreason'),),
    elements=(
        Element('reason', 1, 1,
            binding=_VS + 'X12ClaimAdjustmentReasonCodesCMSRemittanceAdviceRemarkCodes'),))
_ITEM_ADJUDICATION_ALLOWEDUNITS: Final = Slice('item.adjudication', 'allowedunits', 0, 1,
    'category', pattern=((_CS + 'C4BBAdjudicationDiscriminator', 'allowedunits'),),
    elements=(Element('value', 1, 1),))
_ADJUDICATION_BENEFITPAYMENTSTATUS: Final = Slice('adjudication', 'benefitpaymentstatus', 1, 1,
    'category', pattern=((_CS + 'C4BBAdjudicationDiscriminator', 'benefitpaymentstatus'),),
    elements=(Element('reason', 1, 1, binding=_VS + 'C4BBPayerBenefitPaymentStatus'),))
_ADJUDICATION_ADJUDICATIONAMOUNTTYPE: Final = Slice('adjudication', 'adjudicationamounttype', 0,
    None, 'category', member_of=_VS + 'C4BBAdjudication', elements=(Element('amount', 1, 1),))
_ADJUDICATION_ADJUSTMENTREASON: Final = Slice('adjudication', 'adjustmentreason', 0, None,
    'category', pattern=((_CS + 'C4BBAdjudicationDiscriminator', 'adjustmentreason'),),
    elements=(
        Element('reason', 1, 1,
            binding=_VS + 'X12ClaimAdjustmentReasonCodesCMSRemittanceAdviceRemarkCodes'),))


BASE: Final = Profile(
    name='C4BBExplanationOfBenefit',
    url=_SD + 'C4BB-ExplanationOfBenefit',
    version='2.0.0',
    parent=None,
    elements=(
        Element('meta', 1, 1),
        Element('meta.lastUpdated', 1, 1),
        Element('meta.profile', 1, None),
        Element('identifier', 1, None),
        Element('status', 1, 1),
        Element('type', 1, 1, binding='http://hl7.org/fhir/ValueSet/claim-type'),
        Element('use', 1, 1, pattern='claim'),
        Element('patient', 1, 1),
        Element('billablePeriod', 1, 1),
        Element('billablePeriod.start', 1, 1),
        Element('created', 1, 1),
        Element('insurer', 1, 1),
        Element('provider', 1, 1),
        Element('priority', 0, 1, binding='http://hl7.org/fhir/ValueSet/process-priority'),
        Element('related.relationship', 1, 1, binding=_VS + 'C4BBRelatedClaimRelationshipCodes'),
        Element('related.reference', 1, 1),
        Element('payee.type', 1, 1, binding=_VS + 'C4BBPayeeType'),
        Element('outcome', 1, 1),
        Element('careTeam.sequence', 1, 1),
        Element('careTeam.provider', 1, 1),
        Element('supportingInfo.sequence', 1, 1),
        Element('supportingInfo.category', 1, 1),
        Element('diagnosis.sequence', 1, 1),
        Element('diagnosis.diagnosis[x]', 1, 1, types=('CodeableConcept', 'Reference')),
        Element('procedure.sequence', 1, 1),
        Element('procedure.procedure[x]', 1, 1, types=('CodeableConcept', 'Reference')),
        Element('insurance', 1, None),
        Element('insurance.focal', 1, 1),
        Element('insurance.coverage', 1, 1),
        Element('item', 1, None),
        Element('item.sequence', 1, 1),
        Element('item.productOrService', 1, 1),
        Element('item.adjudication.category', 1, 1),
        Element('item.detail.sequence', 1, 1),
        Element('item.detail.productOrService', 1, 1),
        Element('item.detail.subDetail.sequence', 1, 1),
        Element('item.detail.subDetail.productOrService', 1, 1),
        Element('addItem.productOrService', 1, 1),
        Element('addItem.detail.productOrService', 1, 1),
        Element('addItem.detail.subDetail.productOrService', 1, 1),
        Element('total', 1, None),
        Element('total.category', 1, 1),
        Element('total.amount', 1, 1),
        Element('payment.type', 0, 1, binding=_VS + 'C4BBPayerClaimPaymentStatusCode'),
        Element('benefitBalance.category', 1, 1),
        Element('benefitBalance.financial.type', 1, 1),
    ),
    slices=(
        Slice('identifier', 'uniqueclaimid', 1, 1, 'type',
            pattern=((_CS + 'C4BBIdentifierType', 'uc'),), elements=(Element('value', 1, 1),)),
    ),
    invariants=(
        ('EOB-payee-other-type-requires-party',
         'Base EOB: if payee type is other, payee party is required'),
        ('EOB-insurance-focal',
         'EOB.insurance: at most one with focal = true'),
    ),
)


PROFESSIONAL_NONCLINICIAN: Final = Profile(
    name='C4BBExplanationOfBenefitProfessionalNonClinician',
    url=_SD + 'C4BB-ExplanationOfBenefit-Professional-NonClinician',
    version='2.0.0',
    parent=BASE,
    elements=(
        Element('type', 1, 1, binding=_VS + 'C4BBProfessionalAndNonClinicianClaimType'),
        Element('careTeam.role', 1, 1,
            binding=_VS + 'C4BBClaimProfessionalAndNonClinicianCareTeamRole'),
        Element('careTeam.qualification', 0, 1,
            binding='http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.114222.4.11.1066'),
        Element('diagnosis', 1, None),
        Element('diagnosis.diagnosis[x]', 1, 1, binding=_VS + 'CDCICD910CMDiagnosisCodes',
            types=('CodeableConcept',)),
        Element('diagnosis.type', 1, 1,
            binding=_VS + 'C4BBClaimProfessionalAndNonClinicianDiagnosisType'),
        Element('item.productOrService', 1, 1, binding=_VS + 'AMACPTCMSHCPCSProcedureCodes'),
        Element('item.modifier', 0, None, binding=_VS + 'AMACPTCMSHCPCSModifiers'),
        Element('item.serviced[x]', 1, 1, types=('date', 'Period')),
        Element('item.locationCodeableConcept', 1, 1, binding=_VS + 'CMSPlaceofServiceCodes'),
        Element('item.adjudication', 2, None),
        Element('adjudication.category', 1, 1),
    ),
    slices=(
        _SUPPORTINGINFO_CLMRECVDDATE,
        Slice('supportingInfo', 'servicefacility', 0, 1, 'category',
            pattern=((_CS + 'C4BBSupportingInfoType', 'servicefacility'),),
            elements=(Element('valueReference', 1, 1),)),
        _SUPPORTINGINFO_MEDICALRECORDNUMBER,
        _SUPPORTINGINFO_PATIENTACCOUNTNUMBER,
        Slice('supportingInfo', 'patientweight', 0, None, 'category',
            pattern=((_CS + 'C4BBSupportingInfoType', 'patientweight'),),
            elements=(Element('code', 0, 0), Element('timing[x]', 0, 0),
                Element('valueQuantity', 1, 1), Element('valueQuantity.value', 1, 1),
                Element('valueQuantity.unit', 0, 1, pattern='[lb_av]'),
                Element('valueQuantity.system', 0, 1, pattern='http://unitsofmeasure.org'))),
        Slice('supportingInfo', 'ambulancetransportreason', 0, None, 'category',
            pattern=((_CS + 'C4BBSupportingInfoType', 'ambulancetransportreason'),),
            elements=(Element('code', 0, 0), Element('timing[x]', 0, 0),
                Element('reason', 1, 1, binding=_VS + 'C4BBAmbulanceTransportReasonCodes'))),
        Slice('supportingInfo', 'transportationdistance', 0, None, 'category',
            pattern=((_CS + 'C4BBSupportingInfoType', 'transportationdistance'),),
            elements=(Element('code', 0, 0), Element('timing[x]', 0, 0),
                Element('valueQuantity', 1, 1), Element('valueQuantity.value', 1, 1),
                Element('valueQuantity.unit', 0, 1, pattern='[mi_i]'),
                Element('valueQuantity.system', 0, 1, pattern='http://unitsofmeasure.org'))),
        Slice('supportingInfo', 'roudtrippurpose', 0, None, 'category',
            pattern=((_CS + 'C4BBSupportingInfoType', 'roudtrippurpose'),),
            elements=(Element('code', 0, 0), Element('timing[x]', 0, 0),
                Element('valueString', 1, 1))),
        Slice('supportingInfo', 'stretcherpurpose', 0, None, 'category',
            pattern=((_CS + 'C4BBSupportingInfoType', 'stretcherpurpose'),),
            elements=(Element('code', 0, 0), Element('timing[x]', 0, 0),
                Element('valueString', 1, 1))),
        Slice('supportingInfo', 'pickuplocation', 0, None, 'category',
            pattern=((_CS + 'C4BBSupportingInfoType', 'pickuplocation'),),
            elements=(Element('code', 0, 0), Element('timing[x]', 0, 0),
                Element('valueString', 1, 1))),
        Slice('supportingInfo', 'dropofflocation', 0, None, 'category',
            pattern=((_CS + 'C4BBSupportingInfoType', 'dropofflocation'),),
            elements=(Element('code', 0, 0), Element('timing[x]', 0, 0),
                Element('valueString', 1, 1))),
        Slice('item.adjudication', 'adjudicationamounttype', 1, None, 'category',
            member_of=_VS + 'C4BBAdjudication', elements=(Element('amount', 1, 1),)),
        Slice('item.adjudication', 'adjustmentreason', 0, 1, 'category',
            pattern=((_CS + 'C4BBAdjudicationDiscriminator', 'adjustmentreason'),),
            elements=(
                Element('reason', 1, 1,
                    binding=_VS + 'X12ClaimAdjustmentReasonCodesCMSRemittanceAdviceRemarkCodes'),)),
        Slice('item.adjudication', 'benefitpaymentstatus', 1, 1, 'category',
            pattern=((_CS + 'C4BBAdjudicationDiscriminator', 'benefitpaymentstatus'),),
            elements=(Element('reason', 1, 1, binding=_VS + 'C4BBPayerBenefitPaymentStatus'),)),
        Slice('item.adjudication', 'allowedunits', 0, 1, 'category',
            pattern=((_CS + 'C4BBAdjudicationDiscriminator', 'allowedunits'),)),
        _ADJUDICATION_BILLINGNETWORKSTATUS,
        Slice('adjudication', 'renderingnetworkstatus', 0, 1, 'category',
            pattern=((_CS + 'C4BBAdjudicationDiscriminator', 'renderingnetworkstatus'),),
            elements=(Element('reason', 1, 1, binding=_VS + 'C4BBPayerProviderNetworkStatus'),)),
        _TOTAL_ADJUDICATIONAMOUNTTYPE,
    ),
    invariants=(
        ('EOB-professional-nonclinician-meta-profile-version',
         ('Professional and Nonclinician EOB: meta.profile with canonical and major.minor. '
          'version required.')),
        ('EOB-prof-all-transportation-supportinginfo-linked-to-line',
         ('Professional EOB: SupportingInfo repetitions with with transportation category code '
          'must be referred to by one or more repetitions of item.informationSequence')),
        ('EOB-prof-careTeam-practitioner',
         'Professional EOB: Careteam roles refer to a practitioner'),
        ('EOB-vision-item-productorservice',
         ('Vision EOB: Item productOrService not required in item.productOrService if and only '
          'if type is vision.')),
    ),
)


INPATIENT_INSTITUTIONAL: Final = Profile(
    name='C4BBExplanationOfBenefitInpatientInstitutional',
    url=_SD + 'C4BB-ExplanationOfBenefit-Inpatient-Institutional',
    version='2.0.0',
    parent=BASE,
    elements=(
        Element('type', 1, 1, binding='http://hl7.org/fhir/ValueSet/claim-type',
            pattern=((_THO + 'claim-type', 'institutional'),)),
        Element('subType', 1, 1, binding=_VS + 'C4BBInstitutionalClaimSubType',
            pattern=((_CS + 'C4BBInstitutionalClaimSubType', 'inpatient'),)),
        Element('careTeam.role', 1, 1, binding=_VS + 'C4BBClaimInstitutionalCareTeamRole'),
        Element('supportingInfo', 1, None),
        Element('diagnosis', 1, None),
        Element('diagnosis.diagnosis[x]', 1, 1, binding=_VS + 'CDCICD910CMDiagnosisCodes',
            types=('CodeableConcept',)),
        Element('diagnosis.type', 1, 1,
            binding=_VS + 'C4BBClaimInpatientInstitutionalDiagnosisType'),
        Element('diagnosis.onAdmission', 0, 1, binding=_VS + 'AHANUBCPresentOnAdmission'),
        Element('procedure.type', 1, 1, binding=_VS + 'C4BBClaimProcedureType'),
        Element('procedure.procedure[x]', 1, 1, binding=_VS + 'CMSICD910PCSProcedureCodes',
            types=('CodeableConcept',)),
        Element('item.revenue', 1, 1, binding=_VS + 'AHANUBCRevenueCodes'),
        Element('item.productOrService', 1, 1, binding=_VS + 'C4BBEOBInstitutionalProcedureCodes'),
        Element('item.modifier', 0, None, binding=_VS + 'AMACPTCMSHCPCSModifiers'),
        Element('adjudication', 1, None),
        Element('adjudication.category', 1, 1),
    ),
    slices=(
        Slice('supportingInfo', 'admissionperiod', 1, 1, 'category',
            pattern=((_CS + 'C4BBSupportingInfoType', 'admissionperiod'),),
            elements=(Element('timingPeriod', 1, 1),)),
        _SUPPORTINGINFO_CLMRECVDDATE,
        _SUPPORTINGINFO_TYPEOFBILL,
        _SUPPORTINGINFO_POINTOFORIGIN,
        _SUPPORTINGINFO_ADMTYPE,
        _SUPPORTINGINFO_DISCHARGE_STATUS,
        Slice('supportingInfo', 'drg', 0, 1, 'category',
            pattern=((_CS + 'C4BBSupportingInfoType', 'drg'),), elements=(Element('code', 1, 1),)),
        _SUPPORTINGINFO_MEDICALRECORDNUMBER,
        _SUPPORTINGINFO_PATIENTACCOUNTNUMBER,
        _ITEM_ADJUDICATION_ADJUDICATIONAMOUNTTYPE,
        _ITEM_ADJUDICATION_ADJUSTMENTREASON,
        _ITEM_ADJUDICATION_ALLOWEDUNITS,
        _ADJUDICATION_BILLINGNETWORKSTATUS,
        _ADJUDICATION_BENEFITPAYMENTSTATUS,
        _ADJUDICATION_ADJUDICATIONAMOUNTTYPE,
        _ADJUDICATION_ADJUSTMENTREASON,
        _TOTAL_ADJUDICATIONAMOUNTTYPE,
    ),
    invariants=(
        ('EOB-institutional-inpatient-meta-profile-version',
         ('Institutional Inpatient EOB: meta.profile with canonical and major.minor. version '
          'required.')),
        ('EOB-inst-pointoforigin',
         ('Where Admission Type and Point of Origin slices exist, if Type of Admission code is '
          'Newborn, Point of Origin must be from Point of Origin - Newborn CodeSystem or Type '
          'of Admission is not Newborn and Point of Origin must be from Point of Origin '
          'Nonnewborn CodeSystem.')),
        ('EOB-institutional-item-or-header-adjudication',
         ('Institutional EOB: Should have adjudication with adjudicationamounttype slice at the '
          'item or header level, but not both')),
        ('EOB-inst-careTeam-practitioner',
         'Institutional EOB: Careteam roles refer to a practitioner'),
        ('EOB-inst-careTeam-organization',
         'Institutional EOB: Careteam roles refer to an organization'),
        ('adjudication-has-amount-type-slice',
         'If Adjudication is present, it must have at least one adjudicationamounttype slice'),
    ),
)


OUTPATIENT_INSTITUTIONAL: Final = Profile(
    name='C4BBExplanationOfBenefitOutpatientInstitutional',
    url=_SD + 'C4BB-ExplanationOfBenefit-Outpatient-Institutional',
    version='2.0.0',
    parent=BASE,
    elements=(
        Element('type', 1, 1, binding='http://hl7.org/fhir/ValueSet/claim-type',
            pattern=((_THO + 'claim-type', 'institutional'),)),
        Element('subType', 1, 1, binding=_VS + 'C4BBInstitutionalClaimSubType',
            pattern=((_CS + 'C4BBInstitutionalClaimSubType', 'outpatient'),)),
        Element('careTeam.role', 1, 1, binding=_VS + 'C4BBClaimInstitutionalCareTeamRole'),
        Element('careTeam.qualification', 0, 1,
            binding='http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.114222.4.11.1066'),
        Element('diagnosis', 1, None),
        Element('diagnosis.diagnosis[x]', 1, 1, binding=_VS + 'CDCICD910CMDiagnosisCodes',
            types=('CodeableConcept',)),
        Element('diagnosis.type', 1, 1,
            binding=_VS + 'C4BBClaimOutpatientInstitutionalDiagnosisType'),
        Element('item.revenue', 0, 1, binding=_VS + 'AHANUBCRevenueCodes'),
        Element('item.productOrService', 1, 1, binding=_VS + 'C4BBEOBInstitutionalProcedureCodes'),
        Element('item.modifier', 0, None, binding=_VS + 'AMACPTCMSHCPCSModifiers'),
        Element('item.servicedDate', 1, 1),
        Element('adjudication', 1, None),
        Element('adjudication.category', 1, 1),
    ),
    slices=(
        _SUPPORTINGINFO_CLMRECVDDATE,
        _SUPPORTINGINFO_TYPEOFBILL,
        _SUPPORTINGINFO_POINTOFORIGIN,
        _SUPPORTINGINFO_ADMTYPE,
        _SUPPORTINGINFO_DISCHARGE_STATUS,
        _SUPPORTINGINFO_MEDICALRECORDNUMBER,
        _SUPPORTINGINFO_PATIENTACCOUNTNUMBER,
        _ITEM_ADJUDICATION_ADJUDICATIONAMOUNTTYPE,
        _ITEM_ADJUDICATION_ADJUSTMENTREASON,
        _ITEM_ADJUDICATION_ALLOWEDUNITS,
        _ADJUDICATION_BILLINGNETWORKSTATUS,
        _ADJUDICATION_BENEFITPAYMENTSTATUS,
        _ADJUDICATION_ADJUDICATIONAMOUNTTYPE,
        _ADJUDICATION_ADJUSTMENTREASON,
        _TOTAL_ADJUDICATIONAMOUNTTYPE,
    ),
    invariants=(
        ('EOB-institutional-outpatient-meta-profile-version',
         ('Institutional Outpatient EOB: meta.profile with canonical and major.minor. version '
          'required.')),
        ('EOB-inst-pointoforigin',
         ('Where Admission Type and Point of Origin slices exist, if Type of Admission code is '
          'Newborn, Point of Origin must be from Point of Origin - Newborn CodeSystem or Type '
          'of Admission is not Newborn and Point of Origin must be from Point of Origin '
          'Nonnewborn CodeSystem.')),
        ('EOB-institutional-item-or-header-adjudication',
         ('Institutional EOB: Should have adjudication with adjudicationamounttype slice at the '
          'item or header level, but not both')),
        ('EOB-inst-careTeam-practitioner',
         'Institutional EOB: Careteam roles refer to a practitioner'),
        ('EOB-inst-careTeam-organization',
         'Institutional EOB: Careteam roles refer to an organization'),
        ('EOB-careteam-qualification',
         ("Care Team Rendering physician's qualifications are from Healthcare Provider Taxonomy "
          'Value Set')),
        ('adjudication-has-amount-type-slice',
         'If Adjudication is present, it must have at least one adjudicationamounttype slice'),
    ),
)

PROFILES: Final[dict[str, Profile]] = {p.url: p for p in (PROFESSIONAL_NONCLINICIAN,
    INPATIENT_INSTITUTIONAL, OUTPATIENT_INSTITUTIONAL)}
