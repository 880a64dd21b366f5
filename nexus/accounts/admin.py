"""Django admin for users and teams."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from nexus.accounts.models import Team, User


@admin.register(User)
class NexusUserAdmin(UserAdmin):
    """Users with their role and team."""

    list_display = ("username", "email", "role", "team", "is_active")
    list_filter = ("role", "team", "is_active")
    fieldsets = UserAdmin.fieldsets + (("Nexus", {"fields": ("role", "team")}),)
    add_fieldsets = UserAdmin.add_fieldsets + (("Nexus", {"fields": ("email", "role", "team")}),)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    """Teams and their managers."""

    list_display = ("name",)
    filter_horizontal = ("managers",)
