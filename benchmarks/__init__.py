"""Benchmarks, run with `./dev bench [NAME...]`. Each module NAME.py has a `main()` that prints its figures."""
