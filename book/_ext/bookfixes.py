"""Small fixes to the HTML that Jupyter Book 1.0.4 generates.

sphinx-thebe registers its inline configuration script once per
``env-before-read-docs`` event, which fires more than once in a Jupyter Book
build. Two copies of ``const THEBE_JS_URL = ...`` make the browser log
"Identifier 'THEBE_JS_URL' has already been declared" on every page. We drop
repeated script entries before each page is written.

The Binder and Colab launch buttons of a chapter open its plain notebook (no
MyST markup) on the branch named by ``notebooks_branch``, which the GitHub
workflow fills with the student zip's content: the notebooks at its top level,
``regcode/`` beside them. Jupyter Book can point the buttons at another branch
(``repository.branch``) but not at another path than ``book/NN_name.ipynb``.
"""

import re


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


def _launch_plain_notebooks(app, pagename, templatename, context, doctree):
    branch = app.config.notebooks_branch
    name = pagename.rsplit("/", 1)[-1]
    if not branch or not re.match(r"\d\d_", name):
        return
    options = app.config.html_theme_options
    launch = options.get("launch_buttons", {})
    repo = re.fullmatch(r"https://github\.com/([^/]+/[^/]+?)/?", options.get("repository_url", ""))
    if repo is None:
        return
    ui = "lab/tree" if launch.get("notebook_interface") == "jupyterlab" else "tree"
    binder, colab = launch.get("binderhub_url", "").rstrip("/"), launch.get("colab_url", "").rstrip("/")
    urls = {
        "Binder": f"{binder}/v2/gh/{repo.group(1)}/{branch}?urlpath={ui}/{name}.ipynb",
        "Colab": f"{colab}/github/{repo.group(1)}/blob/{branch}/{name}.ipynb",
    }
    for group in context.get("header_buttons", []):
        if group.get("label") == "launch-buttons":
            for button in group.get("buttons", []):
                if button.get("text") in urls:
                    button["url"] = urls[button["text"]]


def setup(app):
    app.add_config_value("notebooks_branch", "", "html")
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    # After sphinx-book-theme's add_launch_buttons (priority 501).
    app.connect("html-page-context", _launch_plain_notebooks, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
