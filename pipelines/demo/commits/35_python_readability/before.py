"""Invoice total calculation for the billing service."""

from decimal import ROUND_HALF_UP, Decimal


def calc(items, cust, promo=None):
    t = Decimal("0")
    for i in items:
        p = Decimal(str(i["price"])) * i["qty"]
        if i.get("discount"):
            p = p - p * Decimal(str(i["discount"])) / 100
        t += p

    if promo:
        if promo["type"] == "percent":
            t = t - t * Decimal(str(promo["value"])) / 100
        elif promo["type"] == "fixed":
            t = t - Decimal(str(promo["value"]))
            if t < 0:
                t = Decimal("0")

    if cust.get("country") == "DE":
        tax = t * Decimal("0.19")
    elif cust.get("country") == "FR":
        tax = t * Decimal("0.20")
    elif cust.get("country") == "GB":
        tax = t * Decimal("0.20")
    else:
        tax = Decimal("0")
    if cust.get("tax_exempt"):
        tax = Decimal("0")

    return {
        "subtotal": t.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
        "tax": tax.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
        "total": (t + tax).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
    }
