"""The words of browsing in the portal, Vietnamese and English: the home page (monuments, collections,
what was added lately) and the list of collections.
Added to the portal's words by :mod:`web.browse` (``i18n.add``)."""

VI = {
    "collections": "Bộ sưu tập", "browse": "Duyệt", "featured_monuments": "Di tích tiêu biểu",
    "recent_items": "Mới số hoá", "n_items": "{n} tài liệu", "no_collections": "Chưa có bộ sưu tập nào.",
    "search_collection": "Tìm trong bộ sưu tập này", "view_3d": "Xem mô hình 3D",
    "all_collections": "Tất cả bộ sưu tập", "no_items_here": "Bộ sưu tập này chưa có tài liệu.",
    "being_read": "đang được số hoá",
}

EN = {
    "collections": "Collections", "browse": "Browse", "featured_monuments": "Monuments",
    "recent_items": "Recently digitised", "n_items": "{n} items", "no_collections": "No collections yet.",
    "search_collection": "Search this collection", "view_3d": "See the 3D model",
    "all_collections": "All collections", "no_items_here": "This collection has no items yet.",
    "being_read": "being digitised",
}
