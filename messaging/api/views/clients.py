"""/api/clients/: clients, opting them out and in, and the import from CSV or XLSX."""

from __future__ import annotations

import logging

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import filters, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from messaging import services
from messaging.api.downloads import FORMS, rejected_rows_response, sample_csv_response
from messaging.api.filters import ClientFilter
from messaging.api.schema import ERROR, FIELD_ERRORS
from messaging.api.serializers import (
    BulkOptOutResultSerializer,
    ClientImportSerializer,
    ClientSerializer,
    ImportResultSerializer,
    OptOutSerializer,
    PhonesSerializer,
)
from messaging.api.strict import FormParserRefusingJson, refuse_body
from messaging.api.views.common import BAD_REQUEST, XLSX, _import_too_large
from messaging.models import Client, StopListEntry, Via
from security import audit

log = logging.getLogger(__name__)


@extend_schema_view(
    list=extend_schema(summary="List clients", description="Filter, search and order clients."),
    create=extend_schema(
        summary="Create a client", responses={201: ClientSerializer, 400: BAD_REQUEST}
    ),
    retrieve=extend_schema(summary="Get a client"),
    update=extend_schema(
        summary="Replace a client", responses={200: ClientSerializer, 400: BAD_REQUEST}
    ),
    partial_update=extend_schema(
        summary="Change some fields of a client",
        responses={200: ClientSerializer, 400: BAD_REQUEST},
    ),
    destroy=extend_schema(
        summary="Delete a client",
        description="Unsent messages to the client are cancelled; sent history stays counted.",
    ),
)
class ClientViewSet(viewsets.ModelViewSet):
    queryset = Client.objects.order_by("id")
    serializer_class = ClientSerializer
    filterset_class = ClientFilter
    lookup_value_regex = "[0-9]+"  # ASCII digits: "²" is a digit to \d but not an id
    filter_backends = [DjangoFilterBackend, filters.OrderingFilter]
    ordering_fields = ["id", "phone", "operator_code", "tag", "timezone", "name", "created_at"]
    ordering = ["id"]

    def perform_create(self, serializer):
        client = serializer.save()
        log.info("client created", extra={"client_id": client.pk})

    def perform_update(self, serializer):
        client = serializer.save()
        log.info("client updated", extra={"client_id": client.pk})

    def get_queryset(self):
        listed = StopListEntry.objects.filter(phone=OuterRef("phone"))
        return super().get_queryset().annotate(stop_listed=Exists(listed))

    def perform_destroy(self, instance):
        services.delete_client(client=instance)

    def _client_answer(self, request, pk):
        client = self.get_queryset().get(pk=pk)
        return Response(ClientSerializer(client, context={"request": request}).data)

    @extend_schema(
        summary="Opt a client out",
        description=(
            "The client asked not to be messaged: recorded with the time, `via: api` and "
            "the reason; the phone goes on the stop list (so deleting and re-importing the "
            "client never re-subscribes it) and its pending messages are cancelled. An "
            "import never clears it. Opting out twice keeps the first record."
        ),
        request=OptOutSerializer,
        responses={200: ClientSerializer, 400: BAD_REQUEST},
    )
    @action(detail=True, methods=["post"], url_path="opt-out")
    def opt_out(self, request, pk=None):
        form = OptOutSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.opt_out(
            client=self.get_object(),
            via=Via.API,
            reason=form.validated_data["reason"],
            **audit.by(request),
        )
        return self._client_answer(request, pk)

    @extend_schema(
        summary="Opt a client back in",
        description="Clears the opt-out and takes the phone off the stop list. No body.",
        request=None,
        responses={200: ClientSerializer, 400: BAD_REQUEST},
    )
    @action(detail=True, methods=["post"], url_path="opt-in")
    def opt_in(self, request, pk=None):
        refuse_body(request)
        services.opt_in(client=self.get_object(), **audit.by(request))
        return self._client_answer(request, pk)

    @extend_schema(
        summary="Opt out many phones",
        operation_id="api_clients_opt_out_many",
        description=(
            "Opts out the clients with these phones and puts every phone on the stop list "
            "(a phone with no client yet stays there for when it is imported). Any invalid "
            "phone refuses the whole request (400 naming it), nothing saved."
        ),
        request=PhonesSerializer,
        responses={200: BulkOptOutResultSerializer, 400: BAD_REQUEST},
    )
    @action(detail=False, methods=["post"], url_path="opt-out")
    def opt_out_many(self, request):
        form = PhonesSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        result = services.opt_out_phones(
            phones=form.validated_data["phones"],
            via=Via.API,
            reason=form.validated_data["reason"],
            **audit.by(request),
        )
        return Response(BulkOptOutResultSerializer(result).data)

    @extend_schema(
        summary="Import clients from CSV or XLSX",
        description=(
            "Upload a file as multipart field `file`: CSV as any spreadsheet writes it (UTF-8 "
            "with or without BOM, Windows-1251 or UTF-16; commas, semicolons or tabs; all "
            "detected) or an Excel workbook (XLSX, its first sheet). The first row names the "
            "columns in English or Russian (phone/телефон/номер, operator_code/код "
            "оператора, tag/тег/метка, timezone/часовой пояс, name/имя/ФИО, field:<name> for "
            "a custom field); only phone is required. A header Herald does not know refuses "
            "the file (400 naming it) unless `mapping` says what the column holds. Clients "
            "are upserted by phone; phones are normalised as the forms do (`+7 (916) "
            "123-45-67` -> `79161234567`, a number Excel stored as 79161234567.0 too), time "
            "zones are read as people write them (Москва, МСК+4, UTC+3; empty: "
            "CLIENT_DEFAULT_TIMEZONE). A column the file does not have is left as it is on "
            "a client that exists. A phone repeated in the file is not an error: the last "
            "row wins and `repeated` counts the earlier ones. Any invalid row rejects the "
            "whole file (400 with the rows and reasons, nothing saved) unless "
            "`skip_invalid_rows` is true. The JSON report lists the first 1,000 rejected "
            "rows and counts all of them (`rejected_count`). With `?rejected_format=csv` "
            "(or `?rejected_csv=1`), `excel` (UTF-8 with BOM and `;`, what Russian Excel "
            "opens) or `xlsx`, the answer is instead a file of every rejected row (the "
            "imported columns plus `line` and `errors`; the import ignores those two, so the "
            "corrected file imports as it is), with the figures in the `Herald-Import-*` "
            "headers and the same status code. A file over IMPORT_MAX_BYTES is refused with "
            "413 before it is read."
        ),
        parameters=[
            OpenApiParameter(
                "rejected_format",
                str,
                OpenApiParameter.QUERY,
                enum=list(FORMS),
                description="Answer with a file of every rejected row in this form instead "
                "of JSON: csv (UTF-8, commas), excel (UTF-8 with BOM, semicolons) or xlsx.",
            ),
            OpenApiParameter(
                "rejected_csv",
                bool,
                OpenApiParameter.QUERY,
                description="The same as rejected_format=csv.",
            ),
        ],
        request={"multipart/form-data": ClientImportSerializer},
        responses={
            (200, "application/json"): ImportResultSerializer,
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description="With ?rejected_format=csv or excel: every rejected row (only "
                "the header when none). Headers Herald-Import-Imported, -Created, -Updated, "
                "-Repeated, -Rejected.",
            ),
            (200, XLSX): OpenApiResponse(
                response=OpenApiTypes.BINARY,
                description="With ?rejected_format=xlsx: every rejected row as a workbook.",
            ),
            (400, "application/json"): OpenApiResponse(
                description=(
                    "Refused, nothing saved: the import report with the rejected rows, "
                    "or a list of messages per field (file, mapping, skip_invalid_rows)."
                ),
                response={
                    "oneOf": [
                        {"$ref": "#/components/schemas/ImportResult"},
                        FIELD_ERRORS,
                    ]
                },
            ),
            (400, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description="With ?rejected_format=csv or excel: refused, nothing saved; "
                "every rejected row.",
            ),
            (400, XLSX): OpenApiResponse(
                response=OpenApiTypes.BINARY,
                description="With ?rejected_format=xlsx: refused, nothing saved.",
            ),
            (413, "application/json"): OpenApiResponse(
                response=ERROR,
                description="The file is larger than IMPORT_MAX_BYTES; nothing was read.",
            ),
        },
        examples=[
            OpenApiExample(
                "Two rows imported",
                value={
                    "imported": True,
                    "created": 1,
                    "updated": 1,
                    "repeated": 0,
                    "rejected_count": 0,
                    "rejected": [],
                    "read_as": "CSV, UTF-8, separated by «,»",
                },
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParserRefusingJson],
    )
    def import_csv(self, request):
        too_large = _import_too_large(request.META.get("CONTENT_LENGTH"), slack=64 * 1024)
        if too_large:
            return too_large  # refused before the body is read
        form = ClientImportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        too_large = _import_too_large(upload.size)
        if too_large:
            return too_large
        rejected_form = _rejected_form(request.query_params)
        try:
            with upload.open("rb"):
                result = services.import_clients(
                    data=upload.file,
                    skip_invalid_rows=form.validated_data["skip_invalid_rows"],
                    rejected_csv=bool(rejected_form),
                    mapping=form.validated_data.get("mapping"),
                )
        except services.ColumnsNotMatched as exc:
            hint = _(
                "Give mapping to say which field each column holds, e.g. "
                '{"Mobile": "phone", "Comment": "ignore"}.'
            )
            raise ValidationError({"file": [f"{m} {hint}" for m in exc.messages]}) from None
        code = status.HTTP_200_OK if result.imported else status.HTTP_400_BAD_REQUEST
        if rejected_form:
            return rejected_rows_response(result, status=code, form=rejected_form)
        return Response(ImportResultSerializer(result).data, status=code)

    @extend_schema(
        summary="A sample CSV for the import",
        description="Three clients in the import's format, phones typed three ways.",
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    @action(detail=False, methods=["get"], url_path="import/sample")
    def import_sample(self, request):
        return sample_csv_response()


def _rejected_form(params) -> str:
    """The form of the rejected rows file asked for ("" for the JSON report)."""
    form = params.get("rejected_format", "").strip().lower()
    if form:
        if form not in FORMS:
            raise ValidationError(
                {"rejected_format": [_("Use one of: %(forms)s.") % {"forms": ", ".join(FORMS)}]}
            )
        return form
    wanted = params.get("rejected_csv", "").lower() in ("1", "true", "yes")
    return "csv" if wanted else ""
