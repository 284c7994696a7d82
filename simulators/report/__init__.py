"""Reports of a simulator run: the terminal, JUnit XML, a self-contained HTML file."""
