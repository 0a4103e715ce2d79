"""Contact requests between members, by consent"""
