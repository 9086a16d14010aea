"""Amplify: events employees and speakers share in their own words, and the posts credited."""
