"""Progress reporting by institutions and review by the Gender Equality Committee."""
