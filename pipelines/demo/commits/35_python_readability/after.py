"""Invoice total calculation for the billing service."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Mapping, Sequence

CENT = Decimal("0.01")
ZERO = Decimal("0")
VAT_RATES: dict[str, Decimal] = {
    "DE": Decimal("0.19"),
    "FR": Decimal("0.20"),
    "GB": Decimal("0.20"),
}


def _percent_off(amount: Decimal, percent: Any) -> Decimal:
    return amount - amount * Decimal(str(percent)) / 100


def _line_total(item: Mapping[str, Any]) -> Decimal:
    """Price times quantity, less any per-line percentage discount."""
    amount = Decimal(str(item["price"])) * item["qty"]
    if item.get("discount"):
        amount = _percent_off(amount, item["discount"])
    return amount


def _apply_promo(subtotal: Decimal, promo: Mapping[str, Any] | None) -> Decimal:
    """Apply a percent or fixed promo; a fixed promo never goes below zero."""
    if not promo:
        return subtotal
    if promo["type"] == "percent":
        return _percent_off(subtotal, promo["value"])
    if promo["type"] == "fixed":
        return max(subtotal - Decimal(str(promo["value"])), ZERO)
    return subtotal


def _tax_for(subtotal: Decimal, customer: Mapping[str, Any]) -> Decimal:
    if customer.get("tax_exempt"):
        return ZERO
    return subtotal * VAT_RATES.get(customer.get("country", ""), ZERO)


def calc(
    items: Sequence[Mapping[str, Any]],
    cust: Mapping[str, Any],
    promo: Mapping[str, Any] | None = None,
) -> dict[str, Decimal]:
    """Return the subtotal, tax and total of an invoice, rounded to cents."""
    subtotal = _apply_promo(sum((_line_total(item) for item in items), ZERO), promo)
    tax = _tax_for(subtotal, cust)
    return {
        "subtotal": subtotal.quantize(CENT, rounding=ROUND_HALF_UP),
        "tax": tax.quantize(CENT, rounding=ROUND_HALF_UP),
        "total": (subtotal + tax).quantize(CENT, rounding=ROUND_HALF_UP),
    }
