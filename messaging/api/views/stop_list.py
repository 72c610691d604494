"""/api/stop-list/: phones never messaged; add, take off, import and export."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from messaging import services
from messaging.api.downloads import FORMS, table_response
from messaging.api.serializers import (
    PhonesSerializer,
    StopListAddResultSerializer,
    StopListEntrySerializer,
    StopListImportResultSerializer,
    StopListImportSerializer,
)
from messaging.api.strict import FormParserRefusingJson
from messaging.api.views.common import BAD_REQUEST, XLSX, _import_too_large
from messaging.campaigns.optouts import stop_list_rows
from messaging.models import StopListEntry, Via
from security import audit


@extend_schema_view(
    list=extend_schema(
        summary="The stop list",
        description="Phones never messaged, newest first; kept apart from clients.",
    ),
    destroy=extend_schema(
        summary="Take a phone off the stop list",
        description="A client's own opt-out stays (POST /api/clients/{id}/opt-in/ clears both).",
    ),
)
class StopListViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    serializer_class = StopListEntrySerializer
    queryset = StopListEntry.objects.order_by("-added_at", "-id")
    lookup_field = "phone"
    lookup_value_regex = "[0-9]{11}"

    @extend_schema(
        summary="Add phones to the stop list",
        description="Their pending messages are cancelled. Any invalid phone refuses the "
        "request (400 naming it), nothing saved.",
        request=PhonesSerializer,
        responses={200: StopListAddResultSerializer, 400: BAD_REQUEST},
    )
    def create(self, request):
        form = PhonesSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        result = services.add_to_stop_list(
            phones=form.validated_data["phones"],
            via=Via.API,
            reason=form.validated_data["reason"],
            **audit.by(request),
        )
        return Response(StopListAddResultSerializer(result).data)

    def perform_destroy(self, instance):
        services.remove_from_stop_list(phone=instance.phone, **audit.by(self.request))

    @extend_schema(
        summary="Import phones into the stop list",
        description="Multipart field `file`: CSV (UTF-8 or Windows-1251; `,` `;` or tab) or "
        "XLSX; the column headed phone (телефон, номер), else the first column. Valid phones "
        "are added (pending messages to them cancelled); invalid rows are reported, not "
        "fatal. The export reads back as it is.",
        request={"multipart/form-data": StopListImportSerializer},
        responses={200: StopListImportResultSerializer, 400: BAD_REQUEST},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParserRefusingJson],
    )
    def import_file(self, request):
        too_large = _import_too_large(request.META.get("CONTENT_LENGTH"), slack=64 * 1024)
        if too_large:
            return too_large
        form = StopListImportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        try:
            with upload.open("rb"):
                result = services.import_stop_list(
                    data=upload.file,
                    via=Via.IMPORT,
                    reason=form.validated_data["reason"],
                    **audit.by(request),
                )
        except services.MalformedFile as exc:
            raise ValidationError({"file": exc.messages}) from None
        return Response(StopListImportResultSerializer(result).data)

    @extend_schema(
        summary="Export the stop list",
        description="phone, added_at, via, reason; `?format_as=` csv (default), excel "
        "(UTF-8 with BOM and `;`) or xlsx.",
        parameters=[OpenApiParameter("format_as", str, OpenApiParameter.QUERY, enum=list(FORMS))],
        responses={(200, "text/csv"): OpenApiTypes.STR, (200, XLSX): OpenApiTypes.BINARY},
    )
    @action(detail=False, methods=["get"], url_path="export")
    def export(self, request):
        form = request.query_params.get("format_as", "csv").strip().lower() or "csv"
        if form not in FORMS:
            raise ValidationError(
                {"format_as": [_("Use one of: %(forms)s.") % {"forms": ", ".join(FORMS)}]}
            )
        return table_response(stop_list_rows(), form=form, filename="stop-list")
