"""The photo or scan a verifier may attach to a spot check: a JPEG, a PNG or a PDF, of at most EVIDENCE_MAX_MB.

The type is read from the file's first bytes as well as its name, so a file named .jpg that is something else
is refused; the file is kept in the project's media storage and served only through the check's own page
(verification.views), to those who see the case's child unmasked.
"""

from django.utils.translation import gettext as _

EVIDENCE_MAX_MB = 10
# Each accepted type: its file name endings and the bytes its files begin with.
EVIDENCE_TYPES = {
    "image/jpeg": ((".jpg", ".jpeg"), b"\xff\xd8\xff"),
    "image/png": ((".png",), b"\x89PNG\r\n\x1a\n"),
    "application/pdf": ((".pdf",), b"%PDF-"),
}


def evidence_type(upload) -> str | None:
    """The accepted type the file is, by its name and its first bytes; None when it is none of them."""
    name = (upload.name or "").lower()
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    for content_type, (endings, magic) in EVIDENCE_TYPES.items():
        if name.endswith(endings) and head.startswith(magic):
            return content_type
    return None


def evidence_problems(upload) -> list[str]:
    """What is wrong with an attached file, if anything."""
    problems = []
    if evidence_type(upload) is None:
        problems.append(_("Attach a photo (JPEG or PNG) or a scan (PDF)."))
    if upload.size > EVIDENCE_MAX_MB * 1024 * 1024:
        problems.append(_("The file is larger than %(mb)s MB.") % {"mb": EVIDENCE_MAX_MB})
    if problems:
        problems.append(_("Nothing was saved; choose the file again when you send the form."))
    return problems
