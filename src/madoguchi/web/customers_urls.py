"""URLs of the customers (顧客) pages."""

from django.urls import URLPattern, path

from madoguchi.web import customer_panel
from madoguchi.web import customers as views

urlpatterns: list[URLPattern] = [
    path("customers/", views.customer_list, name="customers"),
    path("customers/<int:pk>/", views.customer, name="customer"),
    path("customers/<int:pk>/edit", views.customer_edit, name="customer_edit"),
    path("customers/<int:pk>/addresses", views.address_add, name="customer_address_add"),
    path("customers/<int:pk>/merge", views.merge, name="customer_merge"),
    path("customers/merges/<int:merge_id>/undo", views.merge_undo, name="customer_merge_undo"),
    path("customers/org/<str:key>/", views.organization, name="organization"),
    path("customers/fields/", views.field_list, name="customer_fields"),
    path("customers/fields/<int:field_id>/delete", views.field_delete,
         name="customer_field_delete"),
    path("customers/export.csv", views.export_csv, name="customers_export"),
    path("customers/import", views.import_csv, name="customers_import"),
    path("c/<int:pk>/customer-info", customer_panel.customer_info, name="customer_info"),
    path("admin/mailboxes/<int:mailbox_id>/customer-panel", customer_panel.panel_settings,
         name="customer_panel_settings"),
]  # fmt: skip
