from pathlib import Path

from setuptools import setup

setup(
    name="minnet",
    version="0.1.0",
    description="A small neural-network framework in numpy for learning backpropagation, "
                "with gradient checking built in",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.9",
    # The bundled data lives in the top-level datasets/ folder of a checkout and is
    # installed inside the package as minnet/data/ (never as a top-level "datasets").
    packages=["minnet", "minnet.layers", "minnet.checker", "minnet.course", "minnet.course.grade", "minnet.data"],
    package_dir={"minnet.data": "datasets"},
    package_data={"minnet.data": ["*.csv", "*.csv.gz", "*.txt", "README.md"]},
    install_requires=["numpy>=1.25", "matplotlib>=3.5"],
    extras_require={"dev": ["pytest>=7", "hypothesis>=6"],
                    # Only for benchmarks/; pinned, because an unpinned torch pulls in
                    # gigabytes of GPU packages.
                    "bench": ["torch==2.13.0"]},
    entry_points={"console_scripts": ["minnet = minnet.cli:main"]},
)
