"""Private conversations between two members"""
