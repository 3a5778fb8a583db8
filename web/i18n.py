"""The portal's words in Vietnamese (the default) and English; the language
comes from ``?lang=``, then the ``lang`` cookie, then Vietnamese."""

from __future__ import annotations

from flask import request

TEXT = {
    "vi": {
        "site": "Di sản Hà Nội số",
        "site_description": "Sách, báo và tạp chí của thư viện Hà Nội, số hoá và tìm được đến từng chữ; "
                            "các di tích của Hà Nội trong mô hình ba chiều.",
        "items": "Tài liệu", "status": "Trạng thái", "pages": "Trang",
        "queued": "đang chờ", "running": "đang đọc", "done": "xong", "failed": "lỗi", "processing": "đang xử lý",
        "empty": "Chưa có tài liệu nào.", "confidence": "Độ tin cậy", "review": "cần soát lại",
        "text": "Văn bản", "back": "Tất cả tài liệu", "creator": "Tác giả", "date": "Năm",
        "collection": "Bộ sưu tập", "switch": "English", "switch_lang": "en", "menu": "Danh mục",
        "search": "Tìm kiếm", "search_placeholder": "Tìm trong sách báo, ví dụ: Văn Miếu",
        "found": "Tìm thấy {n} trang", "found_about": "Tìm thấy khoảng {n} trang",
        "notice_sampled_counts": "Rất nhiều trang khớp với tìm kiếm này: số trang và các bộ lọc được ước tính từ "
                                 "một mẫu ngẫu nhiên của thư viện.",
        "notice_sampled": "Rất nhiều trang khớp với tìm kiếm này: số trang và các bộ lọc được ước tính từ một mẫu "
                          "ngẫu nhiên của thư viện, và kết quả là những trang phù hợp nhất trong mẫu đó. Hãy thêm "
                          "từ hoặc chọn bộ lọc để thu hẹp tìm kiếm.",
        "no_hits": "Không tìm thấy trang nào.", "page": "trang",
        "notice_partial": "Máy tìm kiếm trả lời quá chậm nên đã dừng sớm: kết quả có thể chưa đầy đủ.",
        "notice_years_swapped": "Năm đầu lớn hơn năm cuối nên đã được đổi chỗ.",
        "next": "Trang sau", "prev": "Trang trước", "type": "Loại", "language": "Ngôn ngữ", "decade": "Thập niên",
        "year": "Năm", "login": "Đăng nhập", "logout": "Đăng xuất", "username": "Tên đăng nhập",
        "password": "Mật khẩu", "bad_login": "Sai tên đăng nhập hoặc mật khẩu.",
        "too_many": "Đăng nhập sai quá nhiều lần; vui lòng thử lại sau ít phút.", "staff": "Nhân viên",
        "dashboard": "Tiến độ xử lý", "retry": "Thử lại", "requeued": "Đã đưa {n} trang vào hàng đợi.",
        "not_allowed": "Tài khoản của bạn không có quyền này.", "fuzzy": "Chấp nhận lỗi nhận dạng",
        "upload": "Tải lên", "files": "Tệp (ảnh, PDF, TIFF nhiều trang hoặc zip)", "title": "Nhan đề",
        "publisher": "Nhà xuất bản", "subject": "Chủ đề", "identifier": "Ký hiệu", "rights": "Bản quyền",
        "serial_title": "Tên báo, tạp chí", "issue_date": "Ngày phát hành", "issue_number": "Số",
        "dry_run": "Chỉ kiểm tra, không lưu", "created": "Đã tạo tài liệu {id} ({n} trang).",
        "duplicate": "Tài liệu này đã có (số {id}); không lưu thêm.", "valid": "Hợp lệ ({n} trang); chưa lưu.",
        "rejected": "Không nhận:", "book": "sách", "newspaper": "báo", "magazine": "tạp chí",
        "manuscript": "bản thảo", "other": "khác", "vie": "tiếng Việt", "fra": "tiếng Pháp", "eng": "tiếng Anh",
        "chi_tra": "chữ Hán", "lzh": "chữ Hán (Hán văn)",
        "monuments": "Di tích", "search_within": "Tìm trong tài liệu này", "export_csv": "Xuất CSV", "download": "Tải về",
        "correct": "Sửa văn bản", "save": "Lưu", "saved": "Đã lưu phiên bản {v}.", "history": "Các phiên bản",
        "machine": "máy đọc", "manual": "sửa tay", "note": "Ghi chú", "waiting": "đang chờ duyệt",
        "drop_here": "Kéo và thả các tệp vào đây", "sheet_file": "Bảng mô tả (CSV), cho nhiều tài liệu một lần",
        "sheet_help": "Mỗi dòng là một tài liệu; cột tệp (file) ghi tên các tệp tải lên cùng bảng.",
    },
    "en": {
        "site": "Hanoi Heritage Online",
        "site_description": "The Hanoi library's books, newspapers and magazines, digitised and searchable to "
                            "the word; Hanoi's monuments as three-dimensional models.",
        "items": "Items", "status": "Status", "pages": "Pages",
        "queued": "queued", "running": "reading", "done": "done", "failed": "failed", "processing": "processing",
        "empty": "No items yet.", "confidence": "Confidence", "review": "needs review",
        "text": "Text", "back": "All items", "creator": "Creator", "date": "Date",
        "collection": "Collection", "switch": "Tiếng Việt", "switch_lang": "vi", "menu": "Menu",
        "search": "Search", "search_placeholder": "Search books and newspapers, e.g. Van Mieu",
        "found": "{n} pages found", "found_about": "About {n} pages found",
        "notice_sampled_counts": "Very many pages match: the count and the filters are estimated from a random "
                                 "sample of the library.",
        "notice_sampled": "Very many pages match: the count and the filters are estimated from a random sample of "
                          "the library, and the pages shown are the best of that sample. Add a word or choose a "
                          "filter to narrow the search.",
        "no_hits": "No page found.", "page": "page",
        "notice_partial": "The search engine took too long and stopped early: these results may be incomplete.",
        "notice_years_swapped": "The first year was after the last; they were swapped.",
        "next": "Next", "prev": "Previous", "type": "Type", "language": "Language", "decade": "Decade",
        "year": "Year", "login": "Sign in", "logout": "Sign out", "username": "User name",
        "password": "Password", "bad_login": "Wrong user name or password.",
        "too_many": "Too many failed sign-ins; please try again in a few minutes.", "staff": "Staff",
        "dashboard": "Processing dashboard", "retry": "Retry", "requeued": "{n} page(s) put back in the queue.",
        "not_allowed": "Your account may not do this.", "fuzzy": "Tolerate OCR errors",
        "upload": "Upload", "files": "Files (images, PDF, multi-page TIFF or a zip)", "title": "Title",
        "publisher": "Publisher", "subject": "Subject", "identifier": "Identifier", "rights": "Rights",
        "serial_title": "Newspaper or magazine title", "issue_date": "Issue date", "issue_number": "Issue number",
        "dry_run": "Only check, store nothing", "created": "Created item {id} ({n} pages).",
        "duplicate": "Already stored as item {id}; nothing new stored.", "valid": "Valid ({n} pages); not stored.",
        "rejected": "Not accepted:", "book": "book", "newspaper": "newspaper", "magazine": "magazine",
        "manuscript": "manuscript", "other": "other", "vie": "Vietnamese", "fra": "French", "eng": "English",
        "chi_tra": "Classical Chinese", "lzh": "Literary Chinese (Hán script)",
        "monuments": "Monuments", "search_within": "Search inside this item", "export_csv": "Export CSV", "download": "Download",
        "correct": "Correct the text", "save": "Save", "saved": "Saved as version {v}.", "history": "Versions",
        "machine": "machine reading", "manual": "correction", "note": "Note", "waiting": "waiting for review",
        "drop_here": "Drag and drop files here", "sheet_file": "Metadata sheet (CSV), for many items at once",
        "sheet_help": "One item per row; its file column names files uploaded with the sheet.",
    },
}


def add(vi: dict[str, str], en: dict[str, str]) -> None:
    """A feature's own words (called by its blueprint module at import): both
    languages must name the same keys, and no key may be taken twice."""
    if set(vi) != set(en):
        raise ValueError(f"words missing in one language: {sorted(set(vi) ^ set(en))}")
    taken = set(vi) & set(TEXT["vi"])
    if taken and any(TEXT["vi"][k] != vi[k] or TEXT["en"][k] != en[k] for k in taken):
        raise ValueError(f"words already defined differently: {sorted(taken)}")
    TEXT["vi"].update(vi)
    TEXT["en"].update(en)


def current_lang() -> str:
    lang = request.args.get("lang") or request.cookies.get("lang") or "vi"
    return lang if lang in TEXT else "vi"


def words() -> dict[str, str]:
    return TEXT[current_lang()]
