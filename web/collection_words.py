"""The words of collections and serials in the portal, Vietnamese and English: the collection page
(sorting, paging, staff forms) and the shelf of newspapers and magazines with its calendar of issues.
Added to the portal's words by :mod:`web.browse` (``i18n.add``)."""

VI = {
    # the collection page
    "sort_by": "Sắp xếp", "sort_order": "Thứ tự của bộ sưu tập", "sort_title": "Nhan đề A–Z",
    "sort_title_desc": "Nhan đề Z–A", "sort_date": "Cũ nhất trước", "sort_date_desc": "Mới nhất trước",
    "sort_apply": "Xếp", "page_n_of": "Trang {n}/{total}", "sub_collections": "Bộ sưu tập con",
    "in_collection": "Thuộc bộ sưu tập",
    # staff forms
    "coll_manage": "Quản lý bộ sưu tập", "coll_name": "Tên", "coll_description": "Mô tả",
    "coll_rename": "Đổi tên", "coll_describe": "Lưu mô tả", "coll_create": "Tạo bộ sưu tập",
    "coll_new": "Bộ sưu tập mới", "coll_items_ids": "Số tài liệu (cách nhau bởi dấu cách)",
    "coll_move_to": "Chuyển đến", "coll_no_collection": "— không thuộc bộ sưu tập nào —",
    "coll_move": "Chuyển", "coll_item_id": "Số tài liệu", "coll_position": "Vị trí",
    "coll_place": "Đặt vào vị trí", "coll_saved": "Đã lưu.", "coll_moved": "Đã chuyển {n} tài liệu.",
    "coll_created": "Đã tạo bộ sưu tập “{name}”.", "coll_refused": "Không lưu được",
    "coll_item_label": "tài liệu {id}, vị trí {pos}",
    # serials
    "serials": "Báo, tạp chí", "serials_none": "Chưa có báo, tạp chí nào.",
    "n_issues": "{n} số", "years_span": "{a}–{b}", "serial_years": "Các năm",
    "no_date": "Không rõ năm", "issues_of_year": "Các số năm {year}",
    "undated_issues": "Các số không rõ ngày", "issue_no": "số {n}", "all_serials": "Tất cả báo, tạp chí",
    "no_issue_that_year": "Không có số nào năm {year}.",
    "months": "Tháng 1|Tháng 2|Tháng 3|Tháng 4|Tháng 5|Tháng 6|Tháng 7|Tháng 8|Tháng 9|Tháng 10|Tháng 11|Tháng 12",
    "weekdays": "T2|T3|T4|T5|T6|T7|CN",
    "issue_on": "{title}, ngày {day}",
}

EN = {
    "sort_by": "Sort by", "sort_order": "Collection order", "sort_title": "Title A–Z",
    "sort_title_desc": "Title Z–A", "sort_date": "Oldest first", "sort_date_desc": "Newest first",
    "sort_apply": "Sort", "page_n_of": "Page {n} of {total}", "sub_collections": "Collections inside",
    "in_collection": "Part of",
    "coll_manage": "Manage this collection", "coll_name": "Name", "coll_description": "Description",
    "coll_rename": "Rename", "coll_describe": "Save description", "coll_create": "Create collection",
    "coll_new": "New collection", "coll_items_ids": "Item numbers (separated by spaces)",
    "coll_move_to": "Move to", "coll_no_collection": "— no collection —",
    "coll_move": "Move", "coll_item_id": "Item number", "coll_position": "Position",
    "coll_place": "Put at position", "coll_saved": "Saved.", "coll_moved": "Moved {n} item(s).",
    "coll_created": "Created collection “{name}”.", "coll_refused": "Not saved",
    "coll_item_label": "item {id}, position {pos}",
    "serials": "Newspapers and magazines", "serials_none": "No newspapers or magazines yet.",
    "n_issues": "{n} issues", "years_span": "{a}–{b}", "serial_years": "Years",
    "no_date": "Year unknown", "issues_of_year": "Issues of {year}",
    "undated_issues": "Issues without a day", "issue_no": "no. {n}", "all_serials": "All newspapers and magazines",
    "no_issue_that_year": "No issue in {year}.",
    "months": "January|February|March|April|May|June|July|August|September|October|November|December",
    "weekdays": "Mo|Tu|We|Th|Fr|Sa|Su",
    "issue_on": "{title}, {day}",
}
