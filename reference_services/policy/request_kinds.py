"""Requests that need the insurer's approval, and the delay promised for each."""

# kind -> calendar days until the customer gets an answer
REQUEST_DELAY_DAYS = {
    "payment_method_change": 5,
    "coverage_change": 5,
    "termination": 10,
    "beneficiary_change": 10,
    "personal_info_change": 3,
    "quote": 2,
    "complaint": 10,
    "data_privacy": 30,
}
