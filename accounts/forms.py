"""The profile's notification forms. They only parse input: accounts.notifications validates the
webhook URL and saves."""

from django import forms

from accounts.models import GroupNotificationSettings, NotificationPreference
from accounts.notifications import GROUP_FIELDS, PREFERENCE_FIELDS


def _url_field(label: str) -> forms.URLField:
    # A URL typed without its scheme (hooks.slack.com/...) is taken as https://.
    return forms.URLField(label=label, required=False, max_length=500, assume_scheme="https",
                          widget=forms.URLInput(attrs={"size": 60, "placeholder": "https://hooks.slack.com/services/…"}),
                          help_text="Slack-compatible (a JSON POST of {\"text\": ...}); empty for none.")


class NotificationPreferenceForm(forms.ModelForm):
    webhook_url = _url_field("Your webhook URL")

    class Meta:
        model = NotificationPreference
        fields = ["webhook_url", *PREFERENCE_FIELDS]
        help_texts = {name: "" for name in PREFERENCE_FIELDS}  # the page's table says it

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in PREFERENCE_FIELDS:  # the boxes sit in a table, without a label of their own
            self.fields[name].widget.attrs["aria-label"] = self.fields[name].label


class GroupNotificationForm(forms.ModelForm):
    webhook_url = _url_field("The group's webhook URL")

    class Meta:
        model = GroupNotificationSettings
        fields = ["webhook_url", *GROUP_FIELDS]


def choices_of(form: forms.ModelForm) -> dict[str, bool]:
    """The on/off choices of a valid form, by field name."""
    return {name: value for name, value in form.cleaned_data.items() if name != "webhook_url"}
