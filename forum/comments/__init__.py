"""Threaded comments under a question's article: views, forms, rules and thread loading."""
