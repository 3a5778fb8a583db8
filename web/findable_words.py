"""The words of an item's record and citation on its public page, Vietnamese and English. Added to the
portal's words by :mod:`web.findable` (``i18n.add``)."""

VI = {
    "rec_title": "Biểu ghi", "rec_field_title": "Nhan đề", "rec_field_creator": "Tác giả",
    "rec_field_date": "Thời gian", "rec_field_publisher": "Nhà xuất bản", "rec_field_subject": "Chủ đề",
    "rec_field_description": "Mô tả", "rec_field_language": "Ngôn ngữ", "rec_field_type": "Loại hình",
    "rec_field_identifier": "Mã định danh", "rec_field_rights": "Bản quyền",
    "rec_field_serial_title": "Ấn phẩm định kỳ", "rec_field_issue_date": "Ngày phát hành",
    "rec_field_issue_number": "Số", "rec_field_collection": "Bộ sưu tập",
    "rec_field_link": "Đường dẫn cố định",
    "cite_title": "Trích dẫn", "cite_item": "Tài liệu", "cite_page": "Trang {n}", "cite_copy": "Sao chép",
    "cite_copied": "Đã sao chép.", "cite_page_pick": "Trích dẫn một trang",
}

EN = {
    "rec_title": "Record", "rec_field_title": "Title", "rec_field_creator": "Creator",
    "rec_field_date": "Date", "rec_field_publisher": "Publisher", "rec_field_subject": "Subject",
    "rec_field_description": "Description", "rec_field_language": "Language", "rec_field_type": "Type",
    "rec_field_identifier": "Identifier", "rec_field_rights": "Rights",
    "rec_field_serial_title": "Serial title", "rec_field_issue_date": "Issue date",
    "rec_field_issue_number": "Issue number", "rec_field_collection": "Collection",
    "rec_field_link": "Stable link",
    "cite_title": "Cite", "cite_item": "This item", "cite_page": "Page {n}", "cite_copy": "Copy",
    "cite_copied": "Copied.", "cite_page_pick": "Cite one page",
}
