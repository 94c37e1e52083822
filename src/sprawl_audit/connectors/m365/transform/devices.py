"""Intune managed devices and their detected apps → Device records.

Sources:

* ``GET /deviceManagement/managedDevices?$select=id,deviceName,operatingSystem,
  managedDeviceOwnerType,userPrincipalName,lastSyncDateTime`` — ``managedDeviceOwnerType``
  is ``company`` | ``personal`` | ``unknown``.
* ``GET /deviceManagement/detectedApps`` — ``id``, ``displayName``, ``version``,
  ``platform`` (``windows``, ``macOS``, ``ios``, ``androidWorkProfile``,
  ``androidDedicatedAndFullyManaged``, ``androidDeviceAdministrator``, ``androidOSP``...).
* ``GET /deviceManagement/detectedApps/{id}/managedDevices?$select=id,deviceName`` — the
  devices each app was seen on (passed in as detected-app id → device items).

How an app is named: Intune's ``displayName`` for a mobile app is sometimes the package
or bundle id (``com.whatsapp``, ``net.whatsapp.WhatsApp``) and sometimes the store label
("WhatsApp Messenger"), depending on enrolment type and OS version. A reverse-DNS looking
name becomes ``AppRef("android", package)`` / ``AppRef("ios", bundle)``; anything else on a
phone becomes ``AppRef("name", label)`` so the catalogue can still match it by name.
Windows and macOS apps become ``AppRef("desktop", name)``.

The blind spot, stated in the coverage: Intune sees only enrolled devices, and on personal
devices (work profile / user enrolment) it inventories only managed apps. WhatsApp on a
personal phone that was never enrolled is invisible here — interviews and network logs
are what find it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping

from sprawl_audit.connectors.interface import coverage, note_malformed
from sprawl_audit.connectors.m365.odata import Item, mappings, text
from sprawl_audit.core.model import AppRef, Device, InventoryBuilder, SourceRef

_REVERSE_DNS = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+){1,}")
_OWNERSHIP = {"company": "corporate", "personal": "personal"}
BYOD_BLIND_SPOT = (
    "personal devices not enrolled in Intune are not seen, and personal (work-profile) "
    "devices report only managed apps"
)


def _family(platform: str, device_os: str) -> str:
    """android | ios | desktop, from the detected app's platform or the device's OS."""
    p = platform.lower()
    if p.startswith("android"):
        return "android"
    if p == "ios":
        return "ios"
    if p in ("windows", "macos", "windowsmobile", "windowsholographic", "chromeos"):
        return "desktop"
    os_name = device_os.lower()
    if "android" in os_name:
        return "android"
    if os_name in ("ios", "ipados"):
        return "ios"
    return "desktop"


def app_ref(display_name: str, platform: str, device_os: str = "") -> AppRef:
    """How a detected app is referred to (see the module notes)."""
    name = display_name.strip()
    family = _family(platform, device_os)
    if family == "desktop":
        return AppRef("desktop", name)
    if _REVERSE_DNS.fullmatch(name) and " " not in name:
        return AppRef(family, name)
    return AppRef("name", name)


def transform_devices(
    managed_devices: Iterable[Item],
    detected_apps: Iterable[Item],
    devices_by_app: Mapping[str, Iterable[Item]],
    *,
    connector: str = "m365",
) -> InventoryBuilder:
    """Devices with the apps seen on them; coverage ``devices.apps``.

    ``collected`` means every enrolled device and its detected apps were read: what the
    topic promises. What Intune cannot see (unenrolled phones, the personal side of a
    work-profile device) is stated in the detail and is the ``devices.unmanaged`` topic,
    which rules that claim an absence on every device need for a pass — so this blind
    spot never turns into a pass, and never blocks one that other evidence supports.
    """
    device_items, malformed = mappings(managed_devices)
    app_items, bad_apps = mappings(detected_apps)
    malformed += bad_apps
    devices = {text(d, "id"): d for d in device_items if text(d, "id")}
    apps_on: dict[str, set[AppRef]] = defaultdict(set)
    by_app = devices_by_app if isinstance(devices_by_app, Mapping) else {}
    for app in app_items:
        name = text(app, "displayName")
        if not name:
            continue
        seen_on, bad_devices = mappings(by_app.get(text(app, "id"), ()))
        malformed += bad_devices
        for dev in seen_on:
            dev_id = text(dev, "id")
            if dev_id not in devices:
                continue
            os_name = text(devices[dev_id], "operatingSystem")
            apps_on[dev_id].add(app_ref(name, text(app, "platform"), os_name))

    source = SourceRef(connector, "devices.apps", "Intune detectedApps")
    out = InventoryBuilder()
    personal = 0
    for dev_id in sorted(devices):
        d = devices[dev_id]
        ownership = _OWNERSHIP.get(text(d, "managedDeviceOwnerType").lower(), "unknown")
        personal += ownership == "personal"
        out.devices.append(Device(
            id=dev_id,
            owner=text(d, "userPrincipalName").lower() or None,
            os=text(d, "operatingSystem"),
            ownership=ownership,
            managed=True,
            apps=tuple(sorted(apps_on.get(dev_id, ()), key=lambda a: (a.kind, a.value))),
            source=source,
        ))
    out.coverage.append(coverage(
        connector, "devices.apps", "collected",
        f"{len(out.devices)} Intune-managed devices ({personal} personal); {BYOD_BLIND_SPOT}",
        len(out.devices),
    ))
    note_malformed(out, "devices.apps", malformed)
    return out
