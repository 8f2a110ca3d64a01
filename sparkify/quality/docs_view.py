"""The Data Docs views: GX's pages, with every text from the data escaped and nothing to fetch.

GX 1.x renders its pages with Jinja templates (`*.j2`) that Jinja does not autoescape, and
puts a value it found (an unexpected value, an observed value, a cell of a table) into the
page as it is: a `song_id` holding `<img src=x onerror=...>` became an element whose handler
ran. Its pages also load jQuery, Bootstrap, Vega and Font Awesome from CDNs and its logo from
S3. These views escape every piece of content that is plain text, and take their templates
from data_docs/ before GX's: no script, no CDN, no image from afar, and a
Content-Security-Policy that lets the browser fetch nothing at all (data_docs/head.j2).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, pass_context

from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView

TEMPLATES_DIR = Path(__file__).resolve().parent / "data_docs"


class _TextIsText:
    """Mixed into GX's views: the project's templates first; plain content escaped."""

    env: Any

    def __init__(self, custom_styles_directory=None, custom_views_directory=None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)  # type: ignore[call-arg]
        self.env.loader = ChoiceLoader([FileSystemLoader(str(TEMPLATES_DIR)), self.env.loader])

    @pass_context
    def render_content_block(self, jinja_context: Any, content_block: Any, index: Any = None,
                             content_block_id: Any = None, render_to_markdown: bool = False):
        """GX's renderer, except that content that is not a rendered component is text.

        GX gives content as rendered components (dicts naming their template) or as plain
        values: a string, a number, a list of them. Only the components produce markup."""
        if _is_component(content_block):
            return super().render_content_block(  # type: ignore[misc]
                jinja_context, content_block, index, content_block_id, render_to_markdown)
        if isinstance(content_block, list):
            return "".join(
                self.render_content_block(
                    jinja_context, item, index,
                    f"{content_block_id}-{n}" if content_block_id else None, render_to_markdown)
                if _is_component(item) else f"<span>{as_text(item)}</span>"
                for n, item in enumerate(content_block))
        return as_text(content_block)


def _is_component(content: Any) -> bool:
    return isinstance(content, dict) and "content_block_type" in content


def as_text(value: Any) -> str:
    """A value from the data as HTML text: never markup, whatever it holds."""
    return "" if value is None else html.escape(str(value), quote=True)


class OfflinePageView(_TextIsText, DefaultJinjaPageView):
    """The validation result and expectation suite pages."""


class OfflineIndexPageView(_TextIsText, DefaultJinjaIndexPageView):
    """The index page: its tables written as HTML rows (GX fills them by script)."""


_VIEW_MODULE = __name__


def site_config(base_directory: Path) -> dict:
    """The SiteBuilder configuration of the project's Data Docs site."""
    page_view = {"module_name": _VIEW_MODULE, "class_name": "OfflinePageView"}
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                          "base_directory": str(base_directory)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder",
                               "view": {"module_name": _VIEW_MODULE,
                                        "class_name": "OfflineIndexPageView"}},
        "site_section_builders": {
            "expectations": {"view": page_view},
            "validations": {"view": page_view},
            "profiling": "None",  # the project profiles nothing (GX reads "None" as off)
        },
    }
