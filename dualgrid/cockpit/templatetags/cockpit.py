from django import template

register = template.Library()


@register.filter
def thousands(value: object) -> str:
    """12345 → "12,345" (figures in tables)."""
    return f"{value:,}" if isinstance(value, int) else str(value)
