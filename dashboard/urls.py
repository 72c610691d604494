from django.urls import path

from dashboard.views import (
    account,
    audit,
    campaign_actions,
    campaign_form,
    campaigns,
    clients,
    home,
    imports,
    reports,
    review,
    stop_list,
)
from dashboard.views import messages as message_views

app_name = "dashboard"

urlpatterns = [
    path("", home.home, name="home"),
    path("clients/", clients.client_list, name="client-list"),
    path("clients/new/", clients.client_create, name="client-create"),
    path("clients/import/", imports.client_import, name="client-import"),
    path("clients/import/sample/", imports.client_import_sample, name="client-import-sample"),
    path(
        "clients/import/rejected/<str:key>/",
        imports.client_import_rejected,
        name="client-import-rejected",
    ),
    path(
        "clients/import/rejected/<str:key>/excel/",
        imports.client_import_rejected,
        {"form": "excel"},
        name="client-import-rejected-excel",
    ),
    path(
        "clients/import/rejected/<str:key>/xlsx/",
        imports.client_import_rejected,
        {"form": "xlsx"},
        name="client-import-rejected-xlsx",
    ),
    path("clients/import/<str:key>/", imports.client_import_match, name="client-import-match"),
    path("clients/export.csv", clients.client_export, name="client-export"),
    path(
        "clients/export-excel.csv",
        clients.client_export,
        {"form": "excel"},
        name="client-export-excel",
    ),
    path("clients/export.xlsx", clients.client_export, {"form": "xlsx"}, name="client-export-xlsx"),
    path("clients/stop-list/", stop_list.stop_list, name="client-stop-list"),
    path("clients/stop-list/add/", stop_list.stop_list_add, name="client-stop-list-add"),
    path("clients/stop-list/import/", stop_list.stop_list_import, name="client-stop-list-import"),
    path(
        "clients/stop-list/export-excel.csv",
        stop_list.stop_list_export,
        name="client-stop-list-export",
    ),
    path(
        "clients/stop-list/export.xlsx",
        stop_list.stop_list_export,
        {"form": "xlsx"},
        name="client-stop-list-export-xlsx",
    ),
    path(
        "clients/stop-list/<str:phone>/remove/",
        stop_list.stop_list_remove,
        name="client-stop-list-remove",
    ),
    path("clients/<int:pk>/", clients.client_detail, name="client-detail"),
    path("clients/<int:pk>/edit/", clients.client_edit, name="client-edit"),
    path("clients/<int:pk>/delete/", clients.client_delete, name="client-delete"),
    path("clients/<int:pk>/opt-out/", clients.client_opt_out, name="client-opt-out"),
    path("clients/<int:pk>/opt-in/", clients.client_opt_in, name="client-opt-in"),
    path("campaigns/", campaigns.campaign_list, name="campaign-list"),
    path("campaigns/new/", campaign_form.campaign_create, name="campaign-create"),
    path("campaigns/test-send/", campaign_form.campaign_test_send, name="campaign-test-send"),
    path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign-detail"),
    path("campaigns/<int:pk>/edit/", campaign_form.campaign_edit, name="campaign-edit"),
    path(
        "campaigns/<int:pk>/duplicate/", campaign_form.campaign_duplicate, name="campaign-duplicate"
    ),
    path("campaigns/<int:pk>/review/", review.campaign_review, name="campaign-review"),
    path(
        "campaigns/<int:pk>/<slug:action>/",
        campaign_actions.campaign_action,
        name="campaign-action",
    ),
    path("messages/<int:pk>/", message_views.message_detail, name="message-detail"),
    path("reports/daily/", reports.daily_report, name="report"),
    path("reports/daily/html/", reports.daily_report_html, name="report-html"),
    path("audit/", audit.audit_log, name="audit"),
    path("account/", account.account, name="account"),
    path("account/timezone/", account.set_timezone, name="set-timezone"),
    path("account/token/", account.api_token, name="api-token"),
    path("account/token/revoke/", account.api_token_revoke, name="api-token-revoke"),
]
