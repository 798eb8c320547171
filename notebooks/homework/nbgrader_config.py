# nbgrader course folder for the swin-edu exercises (https://nbgrader.readthedocs.io).
#   source/swin/   the exercise notebooks with their solutions (what a teacher edits)
#   release/swin/  the student version: `nbgrader generate_assignment swin` writes it (make homework)
c = get_config()  # noqa: F821 (defined by nbgrader when it reads this file)
c.CourseDirectory.course_id = "swin-edu"
