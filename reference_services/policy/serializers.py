"""The policy service's answers, as the contract's models describe them
(core/service_contract/answers.py: Customer, Contract)."""
from __future__ import annotations

from datetime import date
from typing import Optional

from reference_services.policy.coverage import covered_claim_types
from reference_services.policy.models import Contract, Customer


def euros(cents: Optional[int]) -> Optional[float]:
    return None if cents is None else round(cents / 100, 2)


def iso_date(day: Optional[date]) -> Optional[str]:
    return None if day is None else day.isoformat()


def customer_json(customer: Customer) -> dict:
    return {
        "customer_id": customer.customer_id,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "birth_date": customer.birth_date.isoformat(),
        "email": customer.email,
        "phone": customer.phone,
        "address": {
            "street": customer.street,
            "postcode": customer.postcode,
            "city": customer.city,
        },
    }


def contract_json(contract: Contract) -> dict:
    active = contract.status == "active"
    vehicle = None
    if contract.vehicle_plate:
        vehicle = {
            "make": contract.vehicle_make,
            "model": contract.vehicle_model,
            "plate": contract.vehicle_plate,
        }
    address = None
    if contract.insured_street:
        address = {
            "street": contract.insured_street,
            "postcode": contract.insured_postcode,
            "city": contract.insured_city,
        }
    return {
        "contract_number": contract.contract_number,
        "customer_id": contract.customer_id,
        "product": contract.product,
        "label": contract.label,
        "status": contract.status,
        "start_date": iso_date(contract.start_date),
        "end_date": iso_date(contract.end_date),
        "next_due_date": iso_date(contract.next_due_date),
        "premium_eur": euros(contract.premium_cents),
        "premium_frequency": contract.premium_frequency,
        "payment_method": contract.payment_method,
        "franchise_eur": euros(contract.franchise_cents),
        "bonus_malus": contract.bonus_malus,
        "beneficiary_clause": contract.beneficiary_clause,
        "insured_vehicle": vehicle,
        "insured_address": address,
        "insured_activity": contract.insured_activity,
        "guarantees": [{"code": g["code"], "label": g["label"]} for g in contract.guarantees],
        # What can be declared on it today: nothing once terminated.
        "covered_claim_types": (
            covered_claim_types(g["code"] for g in contract.guarantees) if active else []
        ),
    }
