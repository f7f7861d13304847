"""Sessions: a session is one sign-in's refresh-token family, with where and when it was
used. Issuing, listing and ending them; everything that ends sign-ins goes through here."""
