from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from .portal import NavItem, register_export, register_nav_item
        from .selectors import member_export

        register_nav_item(NavItem(order=0, url_name="members:dashboard", label=_("Overview")))
        register_nav_item(NavItem(order=80, url_name="members:profile", label=_("Profile")))
        register_nav_item(NavItem(order=90, url_name="members:privacy", label=_("Privacy")))
        register_export("member", member_export)
