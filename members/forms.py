from typing import Any

from allauth.account import forms as allauth_forms
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .codes import code_digest
from .models import Member, Sanction, User
from .services import member_update_profile


class ProfileForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    birthday = forms.DateField(
        label=_("Birthday"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("You can set it once; after that, ask us to correct it."),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=[("", _("As my browser says")), *settings.LANGUAGES],
        required=False,
    )
    marketing_email = forms.BooleanField(label=_("Offers by e-mail"), required=False)
    marketing_sms = forms.BooleanField(label=_("Offers by SMS"), required=False)
    marketing_inbox = forms.BooleanField(label=_("Offers in my inbox"), required=False)
    marketing_push = forms.BooleanField(label=_("Offers as browser notifications"), required=False)

    def __init__(self, *args: object, member: Member, **kwargs: object) -> None:
        self.member = member
        kwargs.setdefault(
            "initial",
            {
                "first_name": member.user.first_name,
                "last_name": member.user.last_name,
                "birthday": member.birthday,
                "language": member.language,
                "marketing_email": member.marketing_email_at is not None,
                "marketing_sms": member.marketing_sms_at is not None,
                "marketing_inbox": member.marketing_inbox_at is not None,
                "marketing_push": member.marketing_push_at is not None,
            },
        )
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if member.birthday is not None:
            self.fields["birthday"].disabled = True

    def save(self) -> Member | None:
        """Apply the edit through the service; a rule it refuses becomes a form error."""
        try:
            return member_update_profile(member=self.member, **self.cleaned_data)
        except ValidationError as error:
            self.add_error(None, error)
            return None


class SanctionForm(forms.Form):
    """Staff's sanction of members: `kinds` are the sanctions offered."""

    kind = forms.ChoiceField(label=_("Sanction"), widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea,
        help_text=_("Kept with the sanction, with your name and the time."),
    )

    def __init__(self, *args: object, kinds: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["kind"].choices = [(kind, Sanction.Kind(kind).label) for kind in kinds]


class CloseAccountForm(forms.Form):
    """Closing the account asks for the password: nobody at an unattended
    computer closes it for the member."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    understood = forms.BooleanField(
        label=_("I understand that my points, coupons and tier are lost for good."),
    )

    def __init__(self, *args: object, user: User, **kwargs: object) -> None:
        self.user = user
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError(_("That is not your password."), code="wrong_password")
        return password


class _HashedCode:
    """What the member typed, hashed before allauth compares it with the digest
    it holds (members.codes)."""

    cleaned_data: dict

    def clean_code(self) -> str:
        typed: str = self.cleaned_data["code"]
        self.cleaned_data["code"] = code_digest(typed)
        super().clean_code()  # type: ignore[misc]
        return typed


class ConfirmLoginCodeForm(_HashedCode, allauth_forms.ConfirmLoginCodeForm):
    pass


class VerifyPhoneForm(_HashedCode, allauth_forms.VerifyPhoneForm):
    pass


class LoginForm(allauth_forms.LoginForm):
    """allauth's login form; its one field takes an e-mail or a mobile number."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"].label = _("Email or mobile number")
        self.fields["login"].widget.attrs["placeholder"] = _("Email or mobile number")
