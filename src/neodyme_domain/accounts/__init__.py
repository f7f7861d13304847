"""Account use cases added since the move to capability packages (e-mail change); the
older ones (register, profile, passwords, verification, delete) still live in
``neodyme_domain.use_cases`` until they move in a commit of their own."""
