"""Google accounts: the record, its storage, OAuth sign-in, tokens, project and quota discovery."""
