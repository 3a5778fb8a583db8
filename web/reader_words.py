"""The words of the reader (one page of an item at a time), Vietnamese and English.
Added to the portal's words by :mod:`web.reader` (``i18n.add``)."""

VI = {
    "rd_page_of": "Trang {n} / {total}", "rd_prev": "Trang trước", "rd_next": "Trang sau",
    "rd_first": "Trang đầu", "rd_last": "Trang cuối", "rd_jump": "Đến trang", "rd_go": "Đi",
    "rd_slider": "Chọn trang", "rd_thumbs": "Các trang gần đây", "rd_record": "Thông tin tài liệu",
    "rd_text": "Chữ của trang", "rd_show_text": "Hiện chữ", "rd_hide_text": "Ẩn chữ",
    "rd_no_text": "Trang này chưa có chữ.", "rd_read": "Đọc",
    "rd_not_read": "Trang này chưa được nhận dạng chữ ({status}).",
    "rd_no_page": "Tài liệu này không có trang {n}: nó có {total} trang.",
    "rd_search": "Tìm trong tài liệu", "rd_hits_pages": "Có ở {pages} trang", "rd_hits_here": "{n} chỗ trên trang này",
    "rd_no_hits": "Không thấy “{q}” trong tài liệu này.", "rd_hits_more": "và {n} trang nữa",
    "rd_hit": "Chỗ tìm thấy {k}", "rd_keys": "Phím ← và → để lật trang; vuốt sang trái/phải trên điện thoại.",
    "rd_progress": "Đang nhận dạng: {done}/{total} trang xong", "rd_progress_done": "Đã nhận dạng xong.",
    "rd_progress_failed": "{n} trang không nhận dạng được.", "rd_show_result": "Xem kết quả",
    "rd_image": "Ảnh trang {n}", "rd_pages_of": "Trang {a}–{b} / {total}", "rd_images": "Ảnh trang {a} và {b}",
    "rd_two_pages": "Hai trang",
    "rd_readings_show": "Hiện âm Hán Việt", "rd_readings_hide": "Ẩn âm Hán Việt",
}

EN = {
    "rd_page_of": "Page {n} of {total}", "rd_prev": "Previous page", "rd_next": "Next page",
    "rd_first": "First page", "rd_last": "Last page", "rd_jump": "Go to page", "rd_go": "Go",
    "rd_slider": "Choose a page", "rd_thumbs": "Nearby pages", "rd_record": "About this item",
    "rd_text": "Text of the page", "rd_show_text": "Show text", "rd_hide_text": "Hide text",
    "rd_no_text": "This page has no text yet.", "rd_read": "Read",
    "rd_not_read": "This page has not been read yet ({status}).",
    "rd_no_page": "This item has no page {n}: it has {total} pages.",
    "rd_search": "Search this item", "rd_hits_pages": "Found on {pages} pages", "rd_hits_here": "{n} on this page",
    "rd_no_hits": "“{q}” is not in this item.", "rd_hits_more": "and {n} more pages",
    "rd_readings_show": "Show Sino-Vietnamese readings", "rd_readings_hide": "Hide Sino-Vietnamese readings",
    "rd_hit": "Match {k}", "rd_keys": "Keys ← and → turn the page; swipe left or right on a phone.",
    "rd_progress": "Being read: {done} of {total} pages done", "rd_progress_done": "Reading finished.",
    "rd_progress_failed": "{n} pages could not be read.", "rd_show_result": "Show the result",
    "rd_image": "Image of page {n}", "rd_pages_of": "Pages {a}–{b} of {total}", "rd_images": "Images of pages {a} and {b}",
    "rd_two_pages": "Two pages",
}
