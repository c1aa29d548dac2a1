"""Uploads in a real browser (gateway/web/js/views/uploads.js), in Chinese and English, at
desktop and phone width: files dropped on the drop zone (a DataTransfer drop event), a
per-file progress bar while the bytes go out (the upload throttled through the DevTools
protocol so that the bar can be seen), a refused program showing the server's reason in the
page's language with no retry but a remove, one file cancelled and retried on its own (the
others not sent again), and a screenshot pasted into the reply box (a synthetic paste event
holding a File) uploaded as screenshot-YYYYMMDD-HHMMSS.png.

Browser fixtures from tests/support/web.py. Screenshots: /tmp/gongdan-uploads-*.png.
"""
import base64
import os
import re

import pytest
from playwright.sync_api import expect

from tests.support.web import (PNG, fill_ticket_form, needs_chromium, sign_in, unique_title)

pytestmark = [pytest.mark.integration, needs_chromium]

LOCALES = {"zh": "zh-CN", "en": "en-US"}
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + os.urandom(4000)
BIG_PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(1_500_000)
REFUSED = {"zh": "不接受“.exe”类型的文件", "en": "files of type '.exe' are not accepted"}
WORDS = {"zh": {"done": "已上传", "cancelled": "已取消", "retry": "重试", "upload": "上传附件"},
         "en": {"done": "Uploaded", "cancelled": "Cancelled", "retry": "Retry",
                "upload": "Upload attachments"}}


def _files_js(files):
    return [{"name": n, "type": m, "b64": base64.b64encode(b).decode()} for n, m, b in files]


def _drop(page, selector, files):
    """Drop files on `selector` as a person dragging them from the desktop would
    (dragenter, dragover, drop with a DataTransfer holding File objects)."""
    page.evaluate("""([selector, files]) => {
        const el = document.querySelector(selector);
        const dt = new DataTransfer();
        for (const f of files) {
            const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
            dt.items.add(new File([bytes], f.name, { type: f.type }));
        }
        for (const type of ["dragenter", "dragover", "drop"]) {
            el.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
        }
    }""", [selector, _files_js(files)])


def _paste(page, selector, files):
    """A paste of clipboard files (a screenshot tool puts an unnamed image.png there)."""
    page.evaluate("""([selector, files]) => {
        const dt = new DataTransfer();
        for (const f of files) {
            const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
            dt.items.add(new File([bytes], f.name, { type: f.type }));
        }
        const el = document.querySelector(selector);
        el.focus();
        el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
    }""", [selector, _files_js(files)])


def _throttle(page, bytes_per_second):
    """Slow the page's uploads down (DevTools network emulation) so progress can be watched."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1,
        "uploadThroughput": bytes_per_second})
    return cdp


def _watch_progress(page):
    """Record, in the page, every progress value and "…%" state text the upload list shows."""
    page.evaluate("""() => {
        window.__progress = [];
        window.__progressTimer = setInterval(() => {
            document.querySelectorAll('.up-item').forEach((li) => {
                const bar = li.querySelector('progress.up-progress');
                if (bar && !bar.hidden) window.__progress.push([li.dataset.file, bar.value,
                    li.querySelector('.up-state').textContent]);
            });
        }, 20);
    }""")


@pytest.mark.parametrize("lang,width", [("zh", 1280), ("en", 390)])
def test_new_ticket_drop_progress_refusal_cancel_and_retry_of_one_file(
        system, open_page, make_user, product, lang, width):
    customer = make_user()
    words = WORDS[lang]
    title = unique_title("附件上传 uploads")
    page = open_page(LOCALES[lang], width=width)
    sign_in(page, customer.phone, customer.password)
    page.goto(system.base_url + "/#/tickets/new")
    form = page.locator("#new-ticket")
    fill_ticket_form(form, title, "consult", "other", product, "Uploads with progress.")

    # the drop zone is visible, takes a drop and a choice; each file removable before sending
    zone = form.locator(".drop-zone")
    expect(zone).to_be_visible()
    _drop(page, "#new-ticket .drop-zone", [("截图.png", "image/png", BIG_PNG),
                                           ("setup.exe", "application/octet-stream", EXE),
                                           ("extra.txt", "text/plain", b"not wanted\n")])
    form.locator("input[type=file]").set_input_files(
        [{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"line one\n"}])
    expect(form.locator(".file-list li")).to_have_count(4)
    form.locator(".file-list li", has_text="extra.txt").locator("button").click()
    expect(form.locator(".file-list li")).to_have_count(3)
    page.screenshot(path=f"/tmp/gongdan-uploads-form-{lang}-{width}.png", full_page=True)

    # the uploads go out slowly: each file shows its progress bar and percentage
    cdp = _throttle(page, 300_000)
    _watch_progress(page)
    form.locator("button[type=submit]").click()
    panel = page.locator("#upload-panel")
    big = panel.locator("li.up-item[data-file='截图.png']")
    expect(big.locator("progress.up-progress")).to_be_visible()
    expect(big.locator(".up-state")).to_have_text(re.compile(r"\d+%"))
    page.screenshot(path=f"/tmp/gongdan-uploads-progress-{lang}-{width}.png", full_page=True)
    expect(big.locator(".up-state")).to_contain_text(words["done"], timeout=30_000)
    seen = page.evaluate("window.__progress")
    values = sorted({v for name, v, _ in seen if name == "截图.png"})
    assert len(values) >= 3 and 0 < values[-1] <= 100, values  # it moved, in steps

    # the refused program: the server's reason in the page's language, no retry, removable
    exe = panel.locator("li.up-item[data-file='setup.exe']")
    expect(exe.locator(".up-state")).to_contain_text("415")
    expect(exe.locator("p.up-error")).to_contain_text(REFUSED[lang])
    expect(exe.locator("button.up-retry")).to_be_hidden()
    expect(exe.locator("button.up-remove")).to_be_visible()
    notes = panel.locator("li.up-item[data-file='notes.txt']")
    expect(notes.locator(".up-state")).to_contain_text(words["done"])
    page.screenshot(path=f"/tmp/gongdan-uploads-refused-{lang}-{width}.png", full_page=True)
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                  "downloadThroughput": -1, "uploadThroughput": -1})
    # removing the refused file leaves nothing failed: on to the ticket
    exe.locator("button.up-remove").click()
    expect(page.locator("h1.ticket-title")).to_have_text(title)
    attachments = page.locator("li.attachment")
    expect(attachments).to_have_count(2)

    # on the ticket page: two files queued, one cancelled mid-way and retried on its own
    _throttle(page, 200_000)
    uploader = page.locator(".uploader")
    _drop(page, ".uploader .drop-zone", [("big.png", "image/png", BIG_PNG),
                                         ("small.txt", "text/plain", b"small\n")])
    expect(uploader.locator("li.up-item")).to_have_count(2)
    uploader.locator("button.up-go", has_text=words["upload"]).click()
    slow = uploader.locator("li.up-item[data-file='big.png']")
    expect(slow.locator("progress.up-progress")).to_be_visible()
    slow.locator("button.up-remove").click()  # "cancel" while it goes up
    expect(slow.locator(".up-state")).to_have_text(words["cancelled"])
    expect(uploader.locator("li.up-item[data-file='small.txt'] .up-state")).to_contain_text(words["done"])
    retry = slow.locator("button.up-retry")
    expect(retry).to_have_text(words["retry"])
    _throttle(page, -1)
    retry.click()
    # all up: the page reloads with both - the small file was not sent a second time
    expect(attachments).to_have_count(4)
    names = sorted(attachments.locator(".attachment-name").all_inner_texts())
    assert names == sorted(["截图.png", "notes.txt", "big.png", "small.txt"]), names
    page.screenshot(path=f"/tmp/gongdan-uploads-ticket-{lang}-{width}.png", full_page=True)


@pytest.mark.parametrize("lang,width", [("en", 1280), ("zh", 390)])
def test_screenshot_pasted_into_the_reply_box(system, open_page, make_user, new_ticket,
                                              lang, width):
    customer, agent = make_user(), make_user("agent")
    ticket = new_ticket(customer, title=unique_title("粘贴截图"))
    page = open_page(LOCALES[lang], width=width)
    sign_in(page, agent.phone, agent.password)
    page.goto(system.base_url + f"/#/tickets/{ticket['id']}")
    box = page.locator("#reply-form textarea[name=body]")
    box.fill("See the screenshot: ")
    # an internal note: the pasted screenshot is internal too
    page.check("#reply-internal")
    _paste(page, "#reply-form textarea[name=body]", [("image.png", "image/png", PNG)])
    item = page.locator("#reply-form li.up-item")
    expect(item).to_have_count(1)
    name = item.get_attribute("data-file")
    assert re.fullmatch(r"screenshot-\d{8}-\d{6}\.png", name), name
    expect(item.locator(".up-state")).to_contain_text(WORDS[lang]["done"])
    expect(box).to_have_value(re.compile(re.escape(f"[{name}]")))
    # a text paste is left to the browser (nothing uploaded)
    page.evaluate("""() => {
        const dt = new DataTransfer(); dt.setData('text/plain', 'hello');
        document.querySelector('#reply-form textarea').dispatchEvent(
            new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }""")
    expect(item).to_have_count(1)
    page.screenshot(path=f"/tmp/gongdan-uploads-paste-{lang}-{width}.png", full_page=True)
    page.click("#reply-form button[type=submit]")
    attachment = page.locator("li.attachment", has_text=name)
    expect(attachment).to_have_count(1)
    expect(attachment.locator(".badge-internal")).to_have_count(1)
    expect(page.locator(".comment-internal")).to_contain_text(f"[{name}]")
    # the customer does not see the internal screenshot
    listed = customer.get(f"/tickets/{ticket['id']}").json()["attachments"]
    assert [a for a in listed if a["filename"] == name] == []
    stored = agent.get(f"/tickets/{ticket['id']}").json()["attachments"]
    assert [(a["filename"], a["size"], a["internal"]) for a in stored] == [(name, len(PNG), True)]


def test_knowledge_base_files_dropped_and_pasted_into_the_editor(system, open_page, make_user):
    agent = make_user("agent")
    r = agent.post("/kb/articles", {"title": unique_title("知识库附件 kb files"), "visibility": "public",
                                    "body": "## 步骤\n\n见截图。"})
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    page = open_page("zh-CN", width=1280)
    sign_in(page, agent.phone, agent.password)
    page.goto(system.base_url + f"/#/kb/{aid}")
    files = page.locator("#kb-files")
    expect(files).to_be_hidden()  # only while editing
    page.click("#kb-edit")
    expect(files.locator(".drop-zone")).to_be_visible()
    editor = page.locator("textarea.kb-editor")
    editor.press("End")
    _paste(page, "textarea.kb-editor", [("image.png", "image/png", PNG)])
    _drop(page, "#kb-files .drop-zone", [("手册.pdf", "application/pdf", b"%PDF-1.4\n%test\n"),
                                         ("tool.exe", "application/octet-stream", EXE)])
    items = files.locator("li.up-item")
    expect(items).to_have_count(3)
    shot = items.first.get_attribute("data-file")
    assert re.fullmatch(r"screenshot-\d{8}-\d{6}\.png", shot), shot
    expect(files.locator("li.up-item[data-file='手册.pdf'] .up-state")).to_contain_text("已上传")
    expect(files.locator("li.up-item[data-file='tool.exe'] p.up-error")).to_contain_text(REFUSED["zh"])
    expect(items.first.locator(".up-state")).to_contain_text("已上传")
    stored = {f["filename"]: f["id"] for f in agent.get(f"/kb/articles/{aid}").json()["files"]}
    assert sorted(stored) == sorted([shot, "手册.pdf"]), stored
    # each one is linked into the Markdown: the image embedded, the document as a link
    text = editor.input_value()
    assert f"![{shot}](/api/v1/kb/files/{stored[shot]}?redirect=1)" in text, text
    assert f"[手册.pdf](/api/v1/kb/files/{stored['手册.pdf']}?redirect=1)" in text, text
    page.screenshot(path="/tmp/gongdan-uploads-kb-zh-1280.png", full_page=True)
