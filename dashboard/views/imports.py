"""Importing clients in the web UI: upload, the column-matching step, the result."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from dashboard.access import managers
from dashboard.forms import ClientImportForm, ColumnMatchForm
from messaging import services
from messaging.api.downloads import kept_rows_response, sample_csv_response
from messaging.models import PendingImport, RejectedRows


def _page(request, template: str, context: dict, *, status: int = 200):
    context.setdefault("max_mib", settings.IMPORT_MAX_BYTES // (1024 * 1024) or 1)
    return render(request, template, context, status=status)


def _keep_rejected(request, result) -> RejectedRows | None:
    with result.rejected_csv as rejected:
        if not result.rejected_count:
            return None
        return RejectedRows.keep(
            user=request.user, rows=result.rejected_count, content=rejected.read()
        )


@managers
def client_import(request):
    """Upload and import; a file whose columns Herald does not know goes to matching."""
    form = ClientImportForm(request.POST or None, request.FILES or None)
    context: dict = {"form": form}
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            skip = form.cleaned_data["skip_invalid_rows"]
            with upload.open("rb"):
                try:
                    result = services.import_clients(
                        data=upload.file, skip_invalid_rows=skip, rejected_csv=True
                    )
                except services.ColumnsNotMatched:
                    upload.file.seek(0)
                    pending = PendingImport.keep(
                        user=request.user,
                        file_name=upload.name,
                        content=upload.file.read(),
                        skip_invalid_rows=skip,
                    )
                    return redirect("dashboard:client-import-match", key=pending.pk)
                except services.MalformedFile as exc:
                    form.add_error("file", exc.message_dict.get("file", exc.messages))
                    result = None
            if result is not None:
                status = 200 if result.imported else 400
                context.update(result=result, rejected_rows=_keep_rejected(request, result))
    return _page(request, "dashboard/clients/import.html", context, status=status)


def _own(model, request, key: str):
    try:
        pk = uuid.UUID(key)
    except ValueError:
        raise Http404(_("No such import.")) from None
    return get_object_or_404(model, pk=pk, user=request.user)


@managers
def client_import_match(request, key: str):
    """The matching step: what each column holds, over a preview of the first rows."""
    pending = _own(PendingImport, request, key)
    content = bytes(pending.content)
    try:
        preview = services.preview_import(data=content)
    except services.MalformedFile:
        pending.delete()
        raise Http404(_("No such import.")) from None
    form = ColumnMatchForm(
        request.POST or None,
        preview=preview,
        initial={"skip_invalid_rows": pending.skip_invalid_rows},
    )
    context: dict = {"form": form, "preview": preview, "pending": pending}
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            result = services.import_clients(
                data=content,
                chosen=form.chosen,
                skip_invalid_rows=form.cleaned_data["skip_invalid_rows"],
                rejected_csv=True,
            )
            context.update(result=result, rejected_rows=_keep_rejected(request, result))
            if result.imported:
                pending.delete()
                context.update(form=ClientImportForm(), matched=pending.file_name)
                return _page(request, "dashboard/clients/import.html", context)
    return _page(request, "dashboard/clients/import_match.html", context, status=status)


@managers
@require_safe
def client_import_sample(request):
    """A small CSV in the import's format, phones typed the ways people type them."""
    return sample_csv_response()


@managers
@require_safe
def client_import_rejected(request, key: str, form: str = "csv"):
    """Every rejected row of the user's own recent import, as CSV, CSV for Excel or XLSX."""
    kept = _own(RejectedRows, request, key)
    stamp = timezone.localtime(kept.created_at).strftime("%Y%m%d-%H%M")
    return kept_rows_response(kept.content, form=form, filename=f"rejected-rows-{stamp}")
