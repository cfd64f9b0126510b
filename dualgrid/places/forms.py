"""Forms of the places pages: list filters, coverage options, the GeoJSON upload."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import QuerySet
from django.http import QueryDict

from . import selectors
from .models import AdminUnit, GridKind, GridTier

if TYPE_CHECKING:
    from dualgrid.accounts.models import User

MAX_GEOJSON_BYTES = 20 * 1024 * 1024
GEOJSON_SUFFIXES = (".geojson", ".json")


def _unit_choices(units: QuerySet[AdminUnit], empty: str) -> list[tuple[str, str]]:
    return [("", empty), *[(str(u.pk), u.name) for u in units]]


class GridFilterForm(forms.Form):
    """Filters of the grid list (/places/grids/), read from the query string."""

    town = forms.TypedChoiceField(label="镇街", required=False, coerce=int, empty_value=None)
    village = forms.TypedChoiceField(label="村/社区", required=False, coerce=int, empty_value=None)
    tier = forms.ChoiceField(label="层级", required=False, choices=[("", "全部层级"), *GridTier.choices])
    kind = forms.ChoiceField(label="类型", required=False, choices=[("", "全部类型"), *GridKind.choices])
    has_group = forms.ChoiceField(
        label="网格群", required=False, choices=[("", "全部"), ("yes", "已建群"), ("no", "未建群")]
    )
    q = forms.CharField(
        label="关键词",
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": "网格名称、编码或村/社区"}),
    )

    def __init__(self, *args: Any, towns: QuerySet[AdminUnit], villages: QuerySet[AdminUnit], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["town"].choices = _unit_choices(towns, "全部镇街")  # type: ignore[attr-defined]
        self.fields["village"].choices = _unit_choices(villages, "全部村/社区")  # type: ignore[attr-defined]

    def selector_kwargs(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "town_id": data["town"],
            "village_id": data["village"],
            "tier": data["tier"] or None,
            "kind": data["kind"] or None,
            "has_group": {"yes": True, "no": False}.get(data["has_group"]),
            "query": data["q"] or None,
        }


def grid_filter_form(query: QueryDict, user: User) -> GridFilterForm:
    """The grid list's filters for ``user`` (the page and its export read the same): a village left
    over from the town chosen before is dropped, so the new town wins instead of the form failing."""
    town_id = query.get("town")
    villages = selectors.villages_in_scope(user, int(town_id) if town_id and town_id.isdigit() else None)
    query = query.copy()
    village_id = query.get("village")
    if village_id and not (village_id.isdigit() and villages.filter(pk=int(village_id)).exists()):
        query.pop("village")
    return GridFilterForm(query or None, towns=selectors.towns_in_scope(user), villages=villages)


class GeoJSONUploadForm(forms.Form):
    file = forms.FileField(
        label="GeoJSON 文件",
        help_text="FeatureCollection，Polygon/MultiPolygon，WGS84 经纬度；属性 code、name，可选 tier、kind、households、population、village_code",
    )
    village = forms.TypedChoiceField(
        label="限定村/社区",
        required=False,
        coerce=int,
        empty_value=None,
        help_text="选填：只允许导入该村/社区的网格",
    )

    def __init__(self, *args: Any, villages: QuerySet[AdminUnit], **kwargs: Any):
        super().__init__(*args, **kwargs)
        choices = [("", "不限"), *[(str(v.pk), f"{v.name}（{v.code}）") for v in villages]]
        self.fields["village"].choices = choices  # type: ignore[attr-defined]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_GEOJSON_BYTES:
            raise forms.ValidationError(
                f"文件过大（{upload.size / 1048576:.1f}MB），单个 GeoJSON 不能超过{MAX_GEOJSON_BYTES // 1048576}MB，请分村/镇导入"
            )
        if not upload.name.lower().endswith(GEOJSON_SUFFIXES):
            raise forms.ValidationError("请上传 .geojson 或 .json 文件")
        return upload
