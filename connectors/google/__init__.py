"""Google Workspace connector: the Directory, Reports, Chat and Gmail APIs."""
