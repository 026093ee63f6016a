"""Phone numbers on file in E.164. A number that cannot be read as one (with the
programme's default region for one without a country code) cannot be texted
or signed in with: it is cleared."""

import phonenumbers
from django.conf import settings
from django.db import migrations


def to_e164(apps, schema_editor):
    Member = apps.get_model("members", "Member")
    for member in Member.objects.exclude(phone="").only("pk", "phone").iterator():
        try:
            number = phonenumbers.parse(member.phone, settings.PHONE_REGION)
            valid = phonenumbers.is_valid_number(number)
        except phonenumbers.NumberParseException:
            valid = False
        phone = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if valid else ""
        if phone != member.phone:
            Member.objects.filter(pk=member.pk).update(phone=phone)


class Migration(migrations.Migration):
    dependencies = [("members", "0009_phone_verified_and_push_consent")]

    operations = [migrations.RunPython(to_e164, migrations.RunPython.noop)]
