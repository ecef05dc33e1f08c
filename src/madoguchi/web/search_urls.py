"""The search page and saved searches."""

from django.urls import URLPattern, path

from madoguchi.web import search

urlpatterns: list[URLPattern] = [
    path("search/", search.results, name="search"),
    path("search/saved", search.save, name="search_save"),
    path("search/saved/<int:pk>/delete", search.delete, name="search_delete"),
]
