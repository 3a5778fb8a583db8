"""The words of an item's access on the public pages, Vietnamese and English: its level (public,
reading room, staff), embargo, withdrawal, and what may not be read or indexed.
Added to the portal's words by :mod:`web.pages` (``i18n.add``)."""

VI = {
    "acc_title": "Quyền xem", "acc_level_public": "công khai", "acc_level_reading-room": "chỉ tại phòng đọc",
    "acc_level_staff": "chỉ nhân viên", "acc_embargo": "hạn chế đến {date}, sau đó: {then}",
    "acc_withdrawn": "đã rút khỏi thư viện số ({when}): {reason}", "acc_do_not_ocr": "không nhận dạng chữ",
    "acc_do_not_index": "không đưa vào tìm kiếm", "acc_content_refused": "Chỉ xem được biểu ghi: {reason}.",
    # the table of contents of an item with a logical structure (articles, sections of a METS import)
    "toc_title": "Mục lục", "toc_page": "tr. {pages}", "toc_untitled": "(không nhan đề)",
    "toc_type_article": "bài", "toc_type_section": "chuyên mục", "toc_type_chapter": "chương",
    "toc_type_advertisement": "quảng cáo", "toc_type_supplement": "phụ trương", "toc_type_other": "phần",
    "toc_found_by_layout": "Các bài do máy nhận ra theo tít và cột trên trang; tên bài là tít đã nhận dạng.",
    # the search page's refine panel and the suggestions of an empty search
    "sr_refine": "Lọc kết quả", "sr_years": "Khoảng năm", "sr_year_from": "Từ năm", "sr_year_to": "Đến năm",
    "sr_apply": "Áp dụng", "sr_try": "Thử tìm:",
}

EN = {
    "acc_title": "Access", "acc_level_public": "public", "acc_level_reading-room": "reading room only",
    "acc_level_staff": "staff only", "acc_embargo": "embargoed until {date}, then: {then}",
    "acc_withdrawn": "withdrawn ({when}): {reason}", "acc_do_not_ocr": "not to be read by OCR",
    "acc_do_not_index": "not to be indexed", "acc_content_refused": "The record only: {reason}.",
    "toc_title": "Contents", "toc_page": "p. {pages}", "toc_untitled": "(untitled)",
    "toc_type_article": "article", "toc_type_section": "section", "toc_type_chapter": "chapter",
    "toc_type_advertisement": "advertisement", "toc_type_supplement": "supplement", "toc_type_other": "part",
    "toc_found_by_layout": "Articles found by the machine from the headlines and columns of each page; "
                           "their names are the headlines as read.",
    "sr_refine": "Refine the results", "sr_years": "Years", "sr_year_from": "From", "sr_year_to": "To",
    "sr_apply": "Apply", "sr_try": "Try:",
}
