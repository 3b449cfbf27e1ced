"""The words people read for the codes the services use."""

WORDS: dict[str, str] = {
    # doors and statuses
    "arrest_diversion": "Arrest diversion",
    "social_contact": "Social contact",
    "community": "Community referral",
    "awaiting_review": "Waiting for the prosecutor's review",
    "admitted": "Admitted: working with a case manager",
    "waitlisted": "On the waitlist",
    "ineligible": "Not eligible",
    "declined": "Declined",
    "withdrawn": "Withdrawn",
    "received": "Received",
    "working_with_case_manager": "Working with a case manager",
    "engaged": "Engaged",
    "not_engaged": "Not engaged",
    "non_compliant": "Non-compliant",
    "closed": "Closed",
    # rule outcomes
    "passed": "Passed",
    "failed": "Failed",
    "unknown": "Unknown",
    # needs
    "housing": "Housing",
    "food": "Food",
    "substance_use_treatment": "Substance-use treatment",
    "detox": "Detox",
    "mental_health": "Mental health",
    "medical": "Medical",
    "income_and_benefits": "Income and benefits",
    "employment_and_job_training": "Employment and job training",
    "education": "Education",
    "civil_legal": "Civil legal",
    "id_documents": "ID documents",
    # offences
    "drug_possession": "Drug possession",
    "drug_delivery": "Drug delivery",
    "prostitution": "Prostitution",
    "theft": "Theft",
    "trespass": "Trespass",
    "other_low_level": "Other low-level offence",
}


def word(code: object) -> str:
    text = str(code)
    return WORDS.get(text, text.replace("_", " ").capitalize())
