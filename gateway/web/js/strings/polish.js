// Uploads (progress, drop zone, pasted screenshots), the administrator's menu, date fields
// as text in the page's language, the IM binding's platform choice, and labels the walk
// through every page (tests/test_web_walk.py) found missing.
export default {
  zh: {
    "upload.progress": "上传进度",
    "upload.retry": "重试",
    "upload.remove": "移除",
    "upload.cancel": "取消",
    "upload.cancelled": "已取消",
    "upload.choose": "选择文件",
    "upload.drop_here": "将文件拖放到此处，或",
    "upload.drop_one": "将文件拖放到此处，或",
    "upload.paste_hint": "可直接粘贴截图（Ctrl+V）或拖入文件，将作为附件上传。",
    "upload.kb_hint": "图片和文件：拖放、选择或直接粘贴到正文，上传后以链接插入正文光标处。",
    "upload.insert": "插入正文",

    "nav.manage": "管理",

    "date.placeholder": "年-月-日",
    "date.pick": "选择日期",
    "date.invalid": "请按 年-月-日 填写日期，例如 2026-12-07。",
    "datetime.placeholder": "年-月-日 时:分",
    "datetime.invalid": "请按 年-月-日 时:分 填写，例如 2026-12-07 14:30。",
    "time.placeholder": "时:分",
    "time.invalid": "请按 时:分 填写（24 小时制），例如 08:30。",

    "im.platform_pick": "请选择平台",

    "selector.account_owner": "账号本人",
    "im.no_channels": "暂无可绑定的平台（请联系管理员开通）",
  },
  en: {
    "upload.progress": "Upload progress",
    "upload.retry": "Retry",
    "upload.remove": "Remove",
    "upload.cancel": "Cancel",
    "upload.cancelled": "Cancelled",
    "upload.choose": "Choose files",
    "upload.drop_here": "Drop files here, or",
    "upload.drop_one": "Drop a file here, or",
    "upload.paste_hint": "Paste a screenshot (Ctrl+V) or drop files here to attach them.",
    "upload.kb_hint": "Images and files: drop, choose or paste them into the text; each is linked in at the cursor once uploaded.",
    "upload.insert": "Insert",

    "nav.manage": "Admin",

    "date.placeholder": "yyyy-mm-dd",
    "date.pick": "Pick a date",
    "date.invalid": "Enter the date as yyyy-mm-dd, e.g. 2026-12-07.",
    "datetime.placeholder": "yyyy-mm-dd hh:mm",
    "datetime.invalid": "Enter it as yyyy-mm-dd hh:mm, e.g. 2026-12-07 14:30.",
    "time.placeholder": "hh:mm",
    "time.invalid": "Enter the time as hh:mm (24-hour), e.g. 08:30.",

    "im.platform_pick": "Choose a platform",

    "selector.account_owner": "The account's owner",
    "im.no_channels": "No platform to bind yet (ask your administrator)",
  },
};
