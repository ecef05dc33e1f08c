"""URLs of the reports (レポート)."""

from django.urls import URLPattern, path

from madoguchi.web import reports

urlpatterns: list[URLPattern] = [
    path("reports/", reports.report, name="reports"),
    path("reports/export.csv", reports.export, name="report_export"),
    path("reports/workload/", reports.workload, name="workload"),
    path("reports/workload/reassign", reports.reassign, name="workload_reassign"),
]
