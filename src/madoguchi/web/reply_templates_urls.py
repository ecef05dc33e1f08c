"""URLs of the templates (定型文): the managers' pages and the composer's JSON."""

from django.urls import URLPattern, path

from madoguchi.web import reply_templates as views

urlpatterns: list[URLPattern] = [
    path("admin/templates/", views.template_list, name="template_list"),
    path("admin/templates/new", views.template_new, name="template_new"),
    path("admin/templates/preview", views.template_preview, name="template_preview"),
    path("admin/templates/<int:template_id>/", views.template_edit, name="template_edit"),
    path("admin/templates/<int:template_id>/delete", views.template_delete,
         name="template_delete"),
    path("admin/templates/<int:template_id>/files", views.file_add, name="template_file_add"),
    path("admin/templates/<int:template_id>/files/<int:file_id>", views.file_download,
         name="template_file"),
    path("admin/templates/<int:template_id>/files/<int:file_id>/remove", views.file_remove,
         name="template_file_remove"),
    path("admin/templates/folders/new", views.folder_new, name="template_folder_new"),
    path("admin/templates/folders/<int:folder_id>", views.folder_edit,
         name="template_folder_edit"),
    path("admin/templates/folders/<int:folder_id>/delete", views.folder_delete,
         name="template_folder_delete"),
    path("c/<int:pk>/templates.json", views.conversation_templates,
         name="conversation_templates"),
    path("c/<int:pk>/templates/<int:template_id>.json", views.conversation_template,
         name="conversation_template"),
    path("m/<int:mailbox_id>/templates.json", views.mailbox_templates, name="mailbox_templates"),
    path("m/<int:mailbox_id>/templates/<int:template_id>.json", views.mailbox_template,
         name="mailbox_template"),
]  # fmt: skip
