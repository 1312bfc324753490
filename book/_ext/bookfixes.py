"""Small fixes to the HTML that Jupyter Book 1.0.4 generates.

sphinx-thebe registers its inline configuration script once per
``env-before-read-docs`` event, which fires more than once in a Jupyter Book
build. Two copies of ``const THEBE_JS_URL = ...`` make the browser log
"Identifier 'THEBE_JS_URL' has already been declared" on every page. We drop
repeated script entries before each page is written.
"""


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        # An inline script is registered once with filename None and once with "".
        key = (getattr(script, "filename", script) or "", repr(getattr(script, "attributes", None)))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
